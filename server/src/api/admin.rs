//! `/api/admin/...`: the contract's merchant endpoints. Every handler takes
//! `RequireAdmin`, so a guest gets 401 and a shopper 403 before anything else runs.

use super::Failures;
use super::{ApiJson, ApiQuery};
use crate::AppState;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use domain::admin::Actor;
use types::admin::{
    AdminOrderSummary, AdminProduct, OrderFilter, ProductFilter, ProductInput, ProductPatch,
    ShipOrder, StockAdjustment,
};
use types::error::ErrorBody;
use types::{AppError, Order};
use web::RequireAdmin;

/// `GET /api/admin/products?q=&category=&status=active|archived|all`
#[utoipa::path(
    get,
    path = "/admin/products",
    tag = "admin",
    operation_id = "adminListProducts",
    params(ProductFilter),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Products, archived ones too", body = Vec<AdminProduct>),
        (status = 400, description = "An unknown status, or a parameter that does not parse", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        Failures,
    )
)]
pub async fn products(
    State(state): State<AppState>,
    _admin: RequireAdmin,
    ApiQuery(filter): ApiQuery<ProductFilter>,
) -> Result<Json<Vec<AdminProduct>>, AppError> {
    Ok(Json(state.services.catalog.admin_products(&filter).await?))
}

/// `POST /api/admin/products`: 201 · 409 duplicate slug/SKU · 422 invalid.
#[utoipa::path(
    post,
    path = "/admin/products",
    tag = "admin",
    operation_id = "adminCreateProduct",
    request_body = ProductInput,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "The new product", body = AdminProduct),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 409, description = "The slug or a SKU is taken", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn create_product(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    ApiJson(body): ApiJson<ProductInput>,
) -> Result<(StatusCode, Json<AdminProduct>), AppError> {
    let product = body.parse()?;
    let created = state
        .services
        .catalog
        .create_product(&Actor::of(&user)?, &product)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/admin/products/{slug}`
#[utoipa::path(
    get,
    path = "/admin/products/{slug}",
    tag = "admin",
    operation_id = "adminGetProduct",
    params(("slug" = String, Path, description = "The product's slug")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The product, archived or not", body = AdminProduct),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        Failures,
    )
)]
pub async fn product(
    State(state): State<AppState>,
    _admin: RequireAdmin,
    Path(slug): Path<String>,
) -> Result<Json<AdminProduct>, AppError> {
    Ok(Json(
        state.services.catalog.admin_product_or_404(&slug).await?,
    ))
}

/// `PATCH /api/admin/products/{slug}`
#[utoipa::path(
    patch,
    path = "/admin/products/{slug}",
    tag = "admin",
    operation_id = "adminUpdateProduct",
    params(("slug" = String, Path, description = "The product's slug")),
    request_body = ProductPatch,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The product after the edit", body = AdminProduct),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product or category", body = ErrorBody),
        (status = 409, description = "The slug or a SKU is taken, or the stock changed since it was read (nothing saved)", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn update_product(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<ProductPatch>,
) -> Result<Json<AdminProduct>, AppError> {
    let edit = body.parse()?;
    Ok(Json(
        state
            .services
            .catalog
            .update_product(&Actor::of(&user)?, &slug, &edit)
            .await?,
    ))
}

/// `DELETE /api/admin/products/{slug}`: archives (204).
#[utoipa::path(
    delete,
    path = "/admin/products/{slug}",
    tag = "admin",
    operation_id = "adminArchiveProduct",
    params(("slug" = String, Path, description = "The product's slug")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Archived: off the storefront, orders keep their lines"),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        Failures,
    )
)]
pub async fn archive_product(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .catalog
        .archive_product(&Actor::of(&user)?, &slug)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A SKU's stock after an adjustment.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StockLevel {
    /// The variant.
    pub sku: String,
    /// Units on hand now.
    pub stock: i64,
}

/// `POST /api/admin/inventory/{sku}/adjust`: 200 `{"sku","stock"}` · 409 below zero.
#[utoipa::path(
    post,
    path = "/admin/inventory/{sku}/adjust",
    tag = "admin",
    operation_id = "adminAdjustStock",
    params(("sku" = String, Path, description = "The variant's SKU")),
    request_body = StockAdjustment,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The stock after the adjustment", body = StockLevel),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such SKU", body = ErrorBody),
        (status = 409, description = "The stock would go below zero", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn adjust(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(sku): Path<String>,
    ApiJson(body): ApiJson<StockAdjustment>,
) -> Result<Json<StockLevel>, AppError> {
    let (delta, reason) = body.parse()?;
    let stock = state
        .services
        .catalog
        .adjust_stock(&Actor::of(&user)?, &sku, delta, &reason)
        .await?;
    Ok(Json(StockLevel { sku, stock }))
}

/// `GET /api/admin/orders?status=&from=YYYY-MM-DD&to=YYYY-MM-DD`
#[utoipa::path(
    get,
    path = "/admin/orders",
    tag = "admin",
    operation_id = "adminListOrders",
    params(OrderFilter),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Orders, newest first (at most 200)", body = Vec<AdminOrderSummary>),
        (status = 400, description = "An unknown status, or a day that is not YYYY-MM-DD", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        Failures,
    )
)]
pub async fn orders(
    State(state): State<AppState>,
    _admin: RequireAdmin,
    ApiQuery(filter): ApiQuery<OrderFilter>,
) -> Result<Json<Vec<AdminOrderSummary>>, AppError> {
    Ok(Json(state.services.orders.list_matching(&filter).await?))
}

/// `POST /api/admin/orders/{id}/ship`
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/ship",
    tag = "admin",
    operation_id = "adminShipOrder",
    params(("id" = String, Path, description = "The order id")),
    request_body = ShipOrder,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The shipped order; the shopper is emailed", body = Order),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order cannot be shipped from its status", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn ship(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ShipOrder>,
) -> Result<Json<Order>, AppError> {
    let tracking = body.parse()?;
    Ok(Json(
        state
            .services
            .orders
            .ship(&Actor::of(&user)?, &id, &tracking)
            .await?,
    ))
}

/// `POST /api/admin/orders/{id}/deliver`
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/deliver",
    tag = "admin",
    operation_id = "adminDeliverOrder",
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The delivered order; the shopper is emailed", body = Order),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order cannot be delivered from its status", body = ErrorBody),
        Failures,
    )
)]
pub async fn deliver(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
) -> Result<Json<Order>, AppError> {
    Ok(Json(
        state
            .services
            .orders
            .deliver(&Actor::of(&user)?, &id)
            .await?,
    ))
}

/// 200 with the order once it moved; 202 with it while the provider has not confirmed
/// its refund yet (it completes by itself, and the order moves on then).
fn changed(change: domain::payments::OrderChange) -> (StatusCode, Json<Order>) {
    let status = if change.refund_pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, Json(change.order))
}

/// `POST /api/admin/orders/{id}/cancel`
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/cancel",
    tag = "admin",
    operation_id = "adminCancelOrder",
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The cancelled order, its stock back", body = Order),
        (status = 202, description = "A paid order whose refund the provider has not confirmed yet; it completes by itself", body = Order),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order cannot be cancelled from its status, was paid a moment ago, or a refund is under way", body = ErrorBody),
        Failures,
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Order>), AppError> {
    let s = &state.services;
    let change = s
        .payments
        .cancel_order(&s.orders, &Actor::of(&user)?, &id)
        .await?;
    Ok(changed(change))
}

/// `POST /api/admin/orders/{id}/refund`
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/refund",
    tag = "admin",
    operation_id = "adminRefundOrder",
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The refunded order", body = Order),
        (status = 202, description = "The refund is recorded; the provider has not confirmed it yet and it completes by itself", body = Order),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order cannot be refunded from its status, or a refund is under way or refused", body = ErrorBody),
        Failures,
    )
)]
pub async fn refund(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Order>), AppError> {
    let s = &state.services;
    let change = s
        .payments
        .refund_in_full(&s.orders, &Actor::of(&user)?, &id)
        .await?;
    Ok(changed(change))
}
