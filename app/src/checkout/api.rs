//! Checkout server functions.

use leptos::prelude::*;
use types::{Address, AppError, CheckoutResponse};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, respond, services};

pub use types::CheckoutSummary;

/// The checkout page's data.
#[server(prefix = "/rpc", endpoint = "checkout/summary")]
pub async fn get_checkout() -> Result<CheckoutSummary, AppError> {
    let result = async {
        let (session, _) = auth::request()?;
        let user = auth::viewer().await?;
        let owner = web::cart_owner(&session, user.as_ref()).await?;
        services()?
            .checkout
            .summary(owner.as_ref(), user.as_ref())
            .await
    }
    .await;
    respond(result)
}

/// Places the order and shows its confirmation page.
#[server(prefix = "/rpc", endpoint = "checkout/place")]
pub async fn place_order(
    token: String,
    email: Option<String>,
    shipping_address: Address,
    shipping_method: String,
) -> Result<CheckoutResponse, AppError> {
    let result = async {
        let (session, _) = auth::request()?;
        let user = auth::viewer().await?;
        let body = types::CheckoutRequest {
            email,
            shipping_address,
            shipping_method,
        };
        let key = types::IdempotencyKey::parse(&token).map_err(|_| {
            AppError::BadRequest("This checkout form has expired; reload the page.".to_owned())
        })?;
        let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
        let placed = services()?
            .checkout
            .place(&owner, user.as_ref(), &body, &key)
            .await?;
        // Without JavaScript the browser follows this to the payment page; hydrated, the
        // checkout page goes there itself (a full load: it is not one of our routes).
        crate::ssr::redirect_plain_form(&placed.payment_url);
        Ok(placed)
    }
    .await;
    respond(result)
}
