//! Cart server functions: thin wrappers over the cart service.

use leptos::prelude::*;
use types::{AppError, Cart};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, redirect_plain_form, respond, services};

/// The session and the user of this call.
#[cfg(feature = "ssr")]
async fn caller() -> Result<(tower_sessions::Session, Option<types::User>), AppError> {
    let (session, _) = auth::request()?;
    Ok((session, auth::viewer().await?))
}

/// The shopper's cart.
#[server(prefix = "/rpc", endpoint = "cart/get")]
pub async fn get_cart() -> Result<Cart, AppError> {
    respond(current_cart().await)
}

#[cfg(feature = "ssr")]
async fn current_cart() -> Result<Cart, AppError> {
    cart_of(auth::viewer().await?.as_ref()).await
}

/// The cart of this request's session, for `user` when signed in.
#[cfg(feature = "ssr")]
pub(crate) async fn cart_of(user: Option<&types::User>) -> Result<Cart, AppError> {
    let (session, _) = auth::request()?;
    let owner = web::cart_owner(&session, user).await?;
    services()?.carts.view_of(owner.as_ref()).await
}

/// Adds to the cart; without JavaScript it then shows the cart.
#[server(prefix = "/rpc", endpoint = "cart/add")]
pub async fn add_to_cart(sku: String, quantity: i64) -> Result<Cart, AppError> {
    let result = async {
        let (session, user) = caller().await?;
        let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
        let item = types::AddToCart { sku, quantity };
        let cart = services()?.carts.add_item(&owner, &item).await?;
        redirect_plain_form("/cart");
        Ok(cart)
    }
    .await;
    respond(result)
}

/// Sets a line's quantity; 0 removes it.
#[server(prefix = "/rpc", endpoint = "cart/set")]
pub async fn set_cart_line(sku: String, quantity: i64) -> Result<Cart, AppError> {
    let result = async {
        let (session, user) = caller().await?;
        let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
        services()?.carts.set_item(&owner, &sku, quantity).await
    }
    .await;
    respond(result)
}

/// Where a no-JavaScript code form goes back to: the cart or checkout, nothing else.
#[cfg(feature = "ssr")]
fn back_to(from: &str) -> &'static str {
    if from == "/checkout" {
        "/checkout"
    } else {
        "/cart"
    }
}

/// Applies a discount code to the cart: 404 for an unknown code, 422 with the reason for
/// one that does not apply. Without JavaScript it then shows the page it came from.
#[server(prefix = "/rpc", endpoint = "cart/discount/apply")]
pub async fn apply_discount(code: String, from: String) -> Result<Cart, AppError> {
    let result = async {
        let (session, user) = caller().await?;
        let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
        let cart = services()?
            .carts
            .apply_code(&owner, &types::promotions::ApplyCode { code })
            .await?;
        redirect_plain_form(back_to(&from));
        Ok(cart)
    }
    .await;
    respond(result)
}

/// Takes the discount code off the cart.
#[server(prefix = "/rpc", endpoint = "cart/discount/remove")]
pub async fn remove_discount(from: String) -> Result<Cart, AppError> {
    let result = async {
        let (session, user) = caller().await?;
        let owner = web::cart_owner(&session, user.as_ref()).await?;
        let cart = services()?.carts.remove_code(owner.as_ref()).await?;
        redirect_plain_form(back_to(&from));
        Ok(cart)
    }
    .await;
    respond(result)
}
