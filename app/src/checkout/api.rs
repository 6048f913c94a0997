//! Checkout server functions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::{Address, AppError, Cart, CheckoutResponse, Money};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, checkout, respond, services};

/// Everything the checkout page shows before the order is placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSummary {
    pub cart: Cart,
    /// The signed-in shopper's email; guests type theirs.
    pub account_email: Option<String>,
    pub saved_addresses: Vec<Address>,
    pub standard_shipping: Money,
    pub express_shipping: Money,
    /// Tax in basis points, on goods and shipping.
    pub tax_bps: i64,
    pub standard_total: Money,
    pub express_total: Money,
    /// Whether express shipping is offered (the `express_shipping` feature flag).
    pub express_available: bool,
    /// A fresh idempotency key: submitting twice places one order.
    pub token: String,
}

/// The checkout page's data.
#[server(prefix = "/rpc", endpoint = "checkout/summary")]
pub async fn get_checkout() -> Result<CheckoutSummary, AppError> {
    let result = async {
        let services = services()?;
        let (_, session, _) = auth::request()?;
        let user = auth::viewer().await?;
        let cart = match auth::cart_owner(&session, user.as_ref(), false).await? {
            Some(owner) => services.carts.view(&owner).await?,
            None => Cart {
                items: vec![],
                subtotal: Money::new(0, types::Currency::USD),
                item_count: 0,
            },
        };
        let pricing = &services.orders.pricing;
        let currency = cart.subtotal.currency;
        let total = |shipping: i64| {
            pricing
                .totals(cart.subtotal.amount, shipping)
                .map(|t| Money::new(t.total, currency))
        };
        let saved_addresses = match &user {
            Some(u) => services.accounts.addresses(&u.id).await?,
            None => Vec::new(),
        };
        Ok(CheckoutSummary {
            standard_total: total(pricing.standard_shipping)?,
            express_total: total(pricing.express_shipping)?,
            standard_shipping: Money::new(pricing.standard_shipping, currency),
            express_shipping: Money::new(pricing.express_shipping, currency),
            tax_bps: pricing.tax_bps,
            express_available: services
                .flags
                .enabled(domain::flags::keys::EXPRESS_SHIPPING)
                .await?,
            account_email: user.map(|u| u.email),
            saved_addresses,
            token: tower_sessions::session::Id::default().to_string(),
            cart,
        })
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
        let services = services()?;
        let (_, session, _) = auth::request()?;
        let user = auth::viewer().await?;
        let body = types::CheckoutRequest {
            email,
            shipping_address,
            shipping_method,
        };
        let (email, address, method) =
            checkout::parse(&body, user.as_ref().map(|u| u.email.as_str()))?;
        let key = token.trim();
        if !(1..=255).contains(&key.len()) {
            return Err(AppError::BadRequest(
                "This checkout form has expired; reload the page.".to_owned(),
            ));
        }
        let owner = auth::cart_owner(&session, user.as_ref(), true)
            .await?
            .ok_or_else(|| AppError::internal("checkout", "no cart owner"))?;
        let placed = checkout::place(
            &services,
            &owner,
            user.as_ref(),
            email,
            address,
            method,
            key.to_owned(),
        )
        .await?;
        // Without JavaScript the browser follows this to the payment page; hydrated, the
        // checkout page goes there itself (a full load: it is not one of our routes).
        crate::ssr::redirect_plain_form(&placed.payment_url);
        Ok(placed)
    }
    .await;
    respond(result)
}
