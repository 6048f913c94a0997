//! Cart server functions: thin wrappers over the cart service.

use leptos::prelude::*;
use types::{AppError, Cart};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, redirect_plain_form, respond, services};

#[cfg(feature = "ssr")]
async fn owner(create: bool) -> Result<Option<domain::cart::CartOwner>, AppError> {
    let (_, session, _) = auth::request()?;
    let user = auth::viewer().await?;
    auth::cart_owner(&session, user.as_ref(), create).await
}

#[cfg(feature = "ssr")]
fn empty() -> Cart {
    Cart {
        items: Vec::new(),
        subtotal: types::Money::new(0, types::Currency::USD),
        item_count: 0,
    }
}

#[cfg(feature = "ssr")]
fn parse_sku(sku: &str) -> Result<types::Sku, AppError> {
    types::Sku::parse(sku).map_err(|_| AppError::not_found("product variant"))
}

/// The shopper's cart.
#[server(prefix = "/rpc", endpoint = "cart/get")]
pub async fn get_cart() -> Result<Cart, AppError> {
    respond(current_cart().await)
}

#[cfg(feature = "ssr")]
async fn current_cart() -> Result<Cart, AppError> {
    match owner(false).await? {
        Some(owner) => services()?.carts.view(&owner).await,
        None => Ok(empty()),
    }
}

/// The header's mini-cart. The cart store being down must not fail every page that shows
/// the header, so an outage reads as an empty cart here (the cart page itself says 503).
#[server(prefix = "/rpc", endpoint = "cart/badge")]
pub async fn cart_badge() -> Result<Cart, AppError> {
    Ok(current_cart().await.unwrap_or_else(|_| empty()))
}

/// Adds to the cart; without JavaScript it then shows the cart.
#[server(prefix = "/rpc", endpoint = "cart/add")]
pub async fn add_to_cart(sku: String, quantity: i64) -> Result<Cart, AppError> {
    let result = async {
        let quantity = types::Quantity::new(quantity).map_err(|e| AppError::Validation {
            message: e.to_string(),
            fields: [("quantity".to_owned(), vec![e.to_string()])].into(),
        })?;
        let sku = parse_sku(&sku)?;
        let owner = owner(true)
            .await?
            .ok_or_else(|| AppError::internal("cart", "no owner"))?;
        let cart = services()?.carts.add(&owner, &sku, quantity).await?;
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
        let sku = parse_sku(&sku)?;
        let owner = owner(true)
            .await?
            .ok_or_else(|| AppError::internal("cart", "no owner"))?;
        services()?.carts.set(&owner, &sku, quantity).await
    }
    .await;
    respond(result)
}
