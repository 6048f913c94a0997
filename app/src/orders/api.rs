//! Order server functions. A customer sees only their own orders (others are 404); a
//! guest sees the orders placed from their session.

use leptos::prelude::*;
use types::{AppError, Order};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, respond, services};

/// The signed-in shopper's orders (401 for guests).
#[server(prefix = "/rpc", endpoint = "orders/list")]
pub async fn my_orders() -> Result<Vec<Order>, AppError> {
    let result = async {
        let user = auth::require_user().await?;
        services()?.orders.for_user(&user.id).await
    }
    .await;
    respond(result)
}

/// One order, if the caller may see it.
#[server(prefix = "/rpc", endpoint = "orders/get")]
pub async fn get_order(id: String) -> Result<Order, AppError> {
    let result = async {
        let (session, _) = auth::request()?;
        let user = auth::viewer().await?;
        let cart = web::cart_owner(&session, user.as_ref()).await?;
        services()?
            .checkout
            .order_for(&id, user.as_ref(), cart.as_ref())
            .await
    }
    .await;
    respond(result)
}
