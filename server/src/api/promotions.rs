//! `/api/admin/promotions`: the merchant's discount codes. Every handler takes
//! `RequireAdmin`, so a guest gets 401 and a shopper 403 before anything else runs.

use super::ApiJson;
use super::Failures;
use crate::AppState;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use domain::admin::Actor;
use types::error::ErrorBody;
use types::promotions::{Promotion, PromotionInput, PromotionPatch};
use types::AppError;
use web::RequireAdmin;

/// `GET /api/admin/promotions`
#[utoipa::path(
    get,
    path = "/admin/promotions",
    tag = "admin",
    operation_id = "adminListPromotions",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Every discount code with its rules and uses, newest first", body = Vec<Promotion>),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        Failures,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: RequireAdmin,
) -> Result<Json<Vec<Promotion>>, AppError> {
    Ok(Json(state.services.promotions.list().await?))
}

/// `POST /api/admin/promotions`: 201 · 409 a taken code · 422 invalid.
#[utoipa::path(
    post,
    path = "/admin/promotions",
    tag = "admin",
    operation_id = "adminCreatePromotion",
    request_body = PromotionInput,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "The new discount code", body = Promotion),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 409, description = "The code exists already (codes are case-insensitive)", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules, or names an unknown category or SKU; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    ApiJson(body): ApiJson<PromotionInput>,
) -> Result<(StatusCode, Json<Promotion>), AppError> {
    let edit = body.parse()?;
    let created = state
        .services
        .promotions
        .create(&Actor::of(&user)?, &edit)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/admin/promotions/{code}`
#[utoipa::path(
    get,
    path = "/admin/promotions/{code}",
    tag = "admin",
    operation_id = "adminGetPromotion",
    params(("code" = String, Path, description = "The code, in any case")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The discount code", body = Promotion),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such code", body = ErrorBody),
        Failures,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _admin: RequireAdmin,
    Path(code): Path<String>,
) -> Result<Json<Promotion>, AppError> {
    Ok(Json(state.services.promotions.get(&code).await?))
}

/// `PATCH /api/admin/promotions/{code}`: any subset of the rules; `"active"` switches it.
#[utoipa::path(
    patch,
    path = "/admin/promotions/{code}",
    tag = "admin",
    operation_id = "adminUpdatePromotion",
    params(("code" = String, Path, description = "The code, in any case")),
    request_body = PromotionPatch,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The discount code after the edit", body = Promotion),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such code", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules, or a limit is below the uses already taken; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn update(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<PromotionPatch>,
) -> Result<Json<Promotion>, AppError> {
    Ok(Json(
        state
            .services
            .promotions
            .update(&Actor::of(&user)?, &code, &body)
            .await?,
    ))
}

/// `DELETE /api/admin/promotions/{code}`: switches the code off (204); orders keep it.
#[utoipa::path(
    delete,
    path = "/admin/promotions/{code}",
    tag = "admin",
    operation_id = "adminDeactivatePromotion",
    params(("code" = String, Path, description = "The code, in any case")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Switched off; its history stays, and PATCH `active` switches it back on"),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such code", body = ErrorBody),
        Failures,
    )
)]
pub async fn deactivate(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(code): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .promotions
        .deactivate(&Actor::of(&user)?, &code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
