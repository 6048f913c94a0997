//! `/api/admin/...`: the contract's merchant endpoints. Every handler takes
//! `RequireAdmin`, so a guest gets 401 and a shopper 403 before anything else runs.

use super::{ApiJson, ApiQuery};
use crate::AppState;
use app::ssr::auth::{actor, RequireAdmin};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use types::admin::{
    AdminOrderSummary, AdminProduct, ProductInput, ProductPatch, ShipOrder, StockAdjustment,
};
use types::{AppError, Order};

/// `?q=&category=&status=active|archived`.
#[derive(Deserialize, Default)]
pub struct ProductFilter {
    q: Option<String>,
    category: Option<String>,
    status: Option<String>,
}

/// `GET /api/admin/products`
pub async fn products(
    State(state): State<AppState>,
    RequireAdmin(_): RequireAdmin,
    ApiQuery(f): ApiQuery<ProductFilter>,
) -> Result<Json<Vec<AdminProduct>>, AppError> {
    let active = match f.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some("active") => Some(true),
        Some("archived") => Some(false),
        Some(_) => {
            return Err(AppError::invalid_param(
                "status",
                "must be active, archived or all",
            ))
        }
    };
    let list = state
        .services
        .admin
        .products(
            f.q.as_deref().filter(|q| !q.trim().is_empty()),
            f.category.as_deref().filter(|c| !c.is_empty()),
            active,
        )
        .await?;
    Ok(Json(list))
}

/// `POST /api/admin/products`: 201 · 409 duplicate slug/SKU · 422 invalid.
pub async fn create_product(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    ApiJson(body): ApiJson<ProductInput>,
) -> Result<(StatusCode, Json<AdminProduct>), AppError> {
    let product = body.parse()?;
    let created = state
        .services
        .admin
        .create_product(&actor(&user)?, &product)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/admin/products/{slug}`
pub async fn product(
    State(state): State<AppState>,
    RequireAdmin(_): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<Json<AdminProduct>, AppError> {
    Ok(Json(state.services.admin.product_or_404(&slug).await?))
}

/// `PATCH /api/admin/products/{slug}`
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
            .admin
            .update_product(&actor(&user)?, &slug, &edit)
            .await?,
    ))
}

/// `DELETE /api/admin/products/{slug}`: archives (204).
pub async fn archive_product(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .admin
        .archive_product(&actor(&user)?, &slug)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/inventory/{sku}/adjust`: 200 `{"sku","stock"}` · 409 below zero.
pub async fn adjust(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(sku): Path<String>,
    ApiJson(body): ApiJson<StockAdjustment>,
) -> Result<Json<Value>, AppError> {
    let (delta, reason) = body.parse()?;
    let sku = types::Sku::parse(&sku).map_err(|_| AppError::not_found("SKU"))?;
    let stock = state
        .services
        .admin
        .adjust_stock(&actor(&user)?, sku.as_str(), delta, &reason)
        .await?;
    Ok(Json(json!({"sku": sku.as_str(), "stock": stock})))
}

/// `?status=&from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Deserialize, Default)]
pub struct OrderFilter {
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/admin/orders?status=`
pub async fn orders(
    State(state): State<AppState>,
    RequireAdmin(_): RequireAdmin,
    ApiQuery(f): ApiQuery<OrderFilter>,
) -> Result<Json<Vec<AdminOrderSummary>>, AppError> {
    use domain::admin::{parse_day, parse_status};
    let status = parse_status(f.status.as_deref())?;
    let (from, to) = (
        parse_day("from", f.from.as_deref())?,
        parse_day("to", f.to.as_deref())?,
    );
    let list = state.services.admin.orders(status, from, to).await?;
    Ok(Json(list))
}

/// `POST /api/admin/orders/{id}/ship`
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
            .admin
            .ship(&actor(&user)?, &id, &tracking)
            .await?,
    ))
}

/// `POST /api/admin/orders/{id}/deliver`
pub async fn deliver(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
) -> Result<Json<Order>, AppError> {
    Ok(Json(
        state.services.admin.deliver(&actor(&user)?, &id).await?,
    ))
}

/// 200 with the order once it moved; 202 with it while the provider has not confirmed
/// its refund yet (it completes by itself, and the order moves on then).
fn changed(change: domain::admin::OrderChange) -> (StatusCode, Json<Order>) {
    let status = if change.refund_pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, Json(change.order))
}

/// `POST /api/admin/orders/{id}/cancel`
pub async fn cancel(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Order>), AppError> {
    Ok(changed(
        state.services.admin.cancel(&actor(&user)?, &id).await?,
    ))
}

/// `POST /api/admin/orders/{id}/refund`
pub async fn refund(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Order>), AppError> {
    Ok(changed(
        state.services.admin.refund(&actor(&user)?, &id).await?,
    ))
}
