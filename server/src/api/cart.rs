//! `/api/cart`, `/api/checkout` and `/api/orders`: the contract's cart and order endpoints.

use super::ApiJson;
use crate::AppState;
use app::ssr::auth::{self, RequireUser, Viewer};
use app::ssr::checkout;
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use tower_sessions::Session;
use types::{
    AddToCart, AppError, Cart, CheckoutRequest, CheckoutResponse, Currency, Money, Order, Quantity,
    SetQuantity, Sku,
};

fn empty_cart() -> Cart {
    Cart {
        items: Vec::new(),
        subtotal: Money::new(0, Currency::USD),
        item_count: 0,
    }
}

fn quantity_error(message: String) -> AppError {
    AppError::Validation {
        message: message.clone(),
        fields: [("quantity".to_owned(), vec![message])].into(),
    }
}

fn sku_or_404(raw: &str) -> Result<Sku, AppError> {
    Sku::parse(raw).map_err(|_| AppError::not_found("product variant"))
}

/// `GET /api/cart`
pub async fn get(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
) -> Result<Json<Cart>, AppError> {
    match auth::cart_owner(&session, user.as_ref(), false).await? {
        Some(owner) => Ok(Json(state.services.carts.view(&owner).await?)),
        None => Ok(Json(empty_cart())),
    }
}

/// `POST /api/cart/items`: 200 cart · 404 unknown SKU · 422 quantity · 409 over stock.
pub async fn add(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    ApiJson(body): ApiJson<AddToCart>,
) -> Result<Json<Cart>, AppError> {
    let quantity = Quantity::new(body.quantity).map_err(|e| quantity_error(e.to_string()))?;
    let sku = sku_or_404(&body.sku)?;
    let owner = auth::cart_owner(&session, user.as_ref(), true)
        .await?
        .ok_or_else(|| AppError::internal("cart", "no owner"))?;
    Ok(Json(
        state.services.carts.add(&owner, &sku, quantity).await?,
    ))
}

/// `PATCH /api/cart/items/{sku}`: a new quantity; 0 removes the line.
pub async fn set(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    Path(sku): Path<String>,
    ApiJson(body): ApiJson<SetQuantity>,
) -> Result<Json<Cart>, AppError> {
    if !(0..=i64::from(Quantity::MAX)).contains(&body.quantity) {
        return Err(quantity_error(
            "quantity must be between 0 and 99".to_owned(),
        ));
    }
    let sku = sku_or_404(&sku)?;
    let owner = auth::cart_owner(&session, user.as_ref(), true)
        .await?
        .ok_or_else(|| AppError::internal("cart", "no owner"))?;
    Ok(Json(
        state
            .services
            .carts
            .set(&owner, &sku, body.quantity)
            .await?,
    ))
}

/// `DELETE /api/cart/items/{sku}`
pub async fn remove(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    Path(sku): Path<String>,
) -> Result<Json<Cart>, AppError> {
    let sku = sku_or_404(&sku)?;
    match auth::cart_owner(&session, user.as_ref(), false).await? {
        Some(owner) => Ok(Json(state.services.carts.remove(&owner, &sku).await?)),
        None => Ok(Json(empty_cart())),
    }
}

/// `POST /api/checkout` with `Idempotency-Key`: 201 order · the same order for the same
/// key · 409 short of stock (nothing reserved) · 422 invalid · 400 empty cart.
pub async fn checkout(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutRequest>,
) -> Result<(StatusCode, Json<CheckoutResponse>), AppError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            AppError::BadRequest(
                "The Idempotency-Key header (1 to 255 characters) is required.".to_owned(),
            )
        })?
        .to_owned();
    let (email, address, method) = checkout::parse(&body, user.as_ref().map(|u| u.email.as_str()))?;
    let owner = auth::cart_owner(&session, user.as_ref(), true)
        .await?
        .ok_or_else(|| AppError::internal("cart", "no owner"))?;
    let placed = checkout::place(
        &state.services,
        &owner,
        user.as_ref(),
        email,
        address,
        method,
        key,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(placed)))
}

/// `GET /api/orders`: the caller's orders, newest first.
pub async fn orders(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Json<Vec<Order>>, AppError> {
    Ok(Json(state.services.orders.for_user(&user.id).await?))
}

/// `GET /api/orders/{id}`: one of the caller's orders; anyone else's is 404.
pub async fn order(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
) -> Result<Json<Order>, AppError> {
    state
        .services
        .orders
        .visible_to(&id, Some(&user.id), None)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::not_found("order"))
}
