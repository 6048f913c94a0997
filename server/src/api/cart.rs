//! `/api/cart`, `/api/checkout` and `/api/orders`: the contract's cart and order endpoints.

use super::ApiJson;
use super::Failures;
use crate::AppState;
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use tower_sessions::Session;
use types::error::ErrorBody;
use types::promotions::ApplyCode;
use types::{
    AddToCart, AppError, Cart, CheckoutRequest, CheckoutResponse, IdempotencyKey, Order,
    SetQuantity,
};
use web::{RequireUser, Viewer};

/// `GET /api/cart`
#[utoipa::path(
    get,
    path = "/cart",
    tag = "cart",
    operation_id = "getCart",
    responses(
        (status = 200, description = "The cart, priced now", body = Cart),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        Failures,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
) -> Result<Json<Cart>, AppError> {
    let owner = web::cart_owner(&session, user.as_ref()).await?;
    Ok(Json(state.services.carts.view_of(owner.as_ref()).await?))
}

/// `POST /api/cart/items`: 200 cart · 404 unknown SKU · 422 quantity · 409 over stock.
#[utoipa::path(
    post,
    path = "/cart/items",
    tag = "cart",
    operation_id = "addToCart",
    request_body = AddToCart,
    responses(
        (status = 200, description = "The cart with the line added", body = Cart),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 404, description = "No such SKU, or its product is archived", body = ErrorBody),
        (status = 409, description = "More than is in stock", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A quantity outside 1 to 99 (in the line too)", body = ErrorBody),
        Failures,
    )
)]
pub async fn add(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    ApiJson(body): ApiJson<AddToCart>,
) -> Result<Json<Cart>, AppError> {
    let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
    Ok(Json(state.services.carts.add_item(&owner, &body).await?))
}

/// `PATCH /api/cart/items/{sku}`: a new quantity; 0 removes the line.
#[utoipa::path(
    patch,
    path = "/cart/items/{sku}",
    tag = "cart",
    operation_id = "setCartLine",
    params(("sku" = String, Path, description = "The variant's SKU")),
    request_body = SetQuantity,
    responses(
        (status = 200, description = "The cart with the new quantity", body = Cart),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 404, description = "No such SKU, or its product is archived", body = ErrorBody),
        (status = 409, description = "More than is in stock", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A quantity outside 0 to 99", body = ErrorBody),
        Failures,
    )
)]
pub async fn set(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    Path(sku): Path<String>,
    ApiJson(body): ApiJson<SetQuantity>,
) -> Result<Json<Cart>, AppError> {
    let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
    Ok(Json(
        state
            .services
            .carts
            .set_item(&owner, &sku, body.quantity)
            .await?,
    ))
}

/// `DELETE /api/cart/items/{sku}`
#[utoipa::path(
    delete,
    path = "/cart/items/{sku}",
    tag = "cart",
    operation_id = "removeCartLine",
    params(("sku" = String, Path, description = "The variant's SKU")),
    responses(
        (status = 200, description = "The cart without the line", body = Cart),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 404, description = "A SKU that cannot exist", body = ErrorBody),
        Failures,
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    Path(sku): Path<String>,
) -> Result<Json<Cart>, AppError> {
    let owner = web::cart_owner(&session, user.as_ref()).await?;
    Ok(Json(
        state
            .services
            .carts
            .remove_item(owner.as_ref(), &sku)
            .await?,
    ))
}

/// `POST /api/cart/discount`: 200 cart · 404 unknown code · 422 a code that does not apply now.
#[utoipa::path(
    post,
    path = "/cart/discount",
    tag = "cart",
    operation_id = "applyDiscountCode",
    request_body = ApplyCode,
    responses(
        (status = 200, description = "The cart with the code and what it takes off", body = Cart),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 404, description = "No promotion has this code", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "The code is expired, not yet valid, used up, below its minimum, used as often as it allows, or covers nothing in the cart; `message` says which", body = ErrorBody),
        Failures,
    )
)]
pub async fn apply_discount(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
    ApiJson(body): ApiJson<ApplyCode>,
) -> Result<Json<Cart>, AppError> {
    let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
    Ok(Json(state.services.carts.apply_code(&owner, &body).await?))
}

/// `DELETE /api/cart/discount`
#[utoipa::path(
    delete,
    path = "/cart/discount",
    tag = "cart",
    operation_id = "removeDiscountCode",
    responses(
        (status = 200, description = "The cart without a code", body = Cart),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        Failures,
    )
)]
pub async fn remove_discount(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    session: Session,
) -> Result<Json<Cart>, AppError> {
    let owner = web::cart_owner(&session, user.as_ref()).await?;
    Ok(Json(
        state.services.carts.remove_code(owner.as_ref()).await?,
    ))
}

/// `POST /api/checkout` with `Idempotency-Key`: 201 order · the same order for the same
/// key · 409 short of stock (nothing reserved) · 422 invalid · 400 empty cart or no key.
#[utoipa::path(
    post,
    path = "/checkout",
    tag = "orders",
    operation_id = "checkout",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 characters; a retry with the same key places no second order")),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "The order, pending payment, and where to pay; the same key answers with the same order", body = CheckoutResponse),
        (status = 400, description = "No `Idempotency-Key`, an empty cart, or malformed JSON", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 409, description = "Short of stock (nothing reserved), a product no longer sold, or a total too large", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
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
        .and_then(|v| IdempotencyKey::parse(v).ok())
        .ok_or_else(|| {
            AppError::BadRequest(
                "The Idempotency-Key header (1 to 255 characters) is required.".to_owned(),
            )
        })?;
    let owner = web::cart_owner_or_new(&session, user.as_ref()).await?;
    let placed = state
        .services
        .checkout
        .place(&owner, user.as_ref(), &body, &key)
        .await?;
    Ok((StatusCode::CREATED, Json(placed)))
}

/// `GET /api/orders`: the caller's orders, newest first.
#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    operation_id = "listOrders",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The caller's orders, newest first", body = Vec<Order>),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        Failures,
    )
)]
pub async fn orders(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Json<Vec<Order>>, AppError> {
    Ok(Json(state.services.orders.for_user(&user.id).await?))
}

/// `GET /api/orders/{id}`: one of the caller's orders; anyone else's is 404.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    operation_id = "getOrder",
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "One of the caller's orders", body = Order),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 404, description = "No such order, or someone else's", body = ErrorBody),
        Failures,
    )
)]
pub async fn order(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
) -> Result<Json<Order>, AppError> {
    let order = state
        .services
        .checkout
        .order_for(&id, Some(&user), None)
        .await?;
    Ok(Json(order))
}
