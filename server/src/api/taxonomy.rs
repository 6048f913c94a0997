//! `/api/admin/categories` and `/api/admin/collections`: the merchant's category tree and
//! curated lists. Every handler takes `RequireAdmin`, so a guest gets 401 and a shopper
//! 403 before anything else runs.

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
use types::taxonomy::{
    AdminCategory, AdminCollection, CategoryInput, CategoryPatch, CollectionInput, CollectionPatch,
};
use types::AppError;
use web::RequireAdmin;

/// `GET /api/admin/collections`
#[utoipa::path(
    get,
    path = "/admin/collections",
    tag = "admin",
    operation_id = "adminListCollections",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Every collection with its products in order", body = Vec<AdminCollection>),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        Failures,
    )
)]
pub async fn collections(
    State(state): State<AppState>,
    _admin: RequireAdmin,
) -> Result<Json<Vec<AdminCollection>>, AppError> {
    Ok(Json(state.services.catalog.admin_collections().await?))
}

/// `POST /api/admin/collections`: 201 · 409 duplicate slug · 422 invalid or unknown product.
#[utoipa::path(
    post,
    path = "/admin/collections",
    tag = "admin",
    operation_id = "adminCreateCollection",
    request_body = CollectionInput,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "The new collection", body = AdminCollection),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules, or names no product; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn create_collection(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    ApiJson(body): ApiJson<CollectionInput>,
) -> Result<(StatusCode, Json<AdminCollection>), AppError> {
    let input = body.parse()?;
    let created = state
        .services
        .catalog
        .create_collection(&Actor::of(&user)?, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/admin/collections/{slug}`
#[utoipa::path(
    get,
    path = "/admin/collections/{slug}",
    tag = "admin",
    operation_id = "adminGetCollection",
    params(("slug" = String, Path, description = "The collection's slug")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The collection with its products in order", body = AdminCollection),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
        Failures,
    )
)]
pub async fn collection(
    State(state): State<AppState>,
    _admin: RequireAdmin,
    Path(slug): Path<String>,
) -> Result<Json<AdminCollection>, AppError> {
    Ok(Json(
        state
            .services
            .catalog
            .admin_collection_or_404(&slug)
            .await?,
    ))
}

/// `PATCH /api/admin/collections/{slug}`: `products` replaces the list and its order.
#[utoipa::path(
    patch,
    path = "/admin/collections/{slug}",
    tag = "admin",
    operation_id = "adminUpdateCollection",
    params(("slug" = String, Path, description = "The collection's slug")),
    request_body = CollectionPatch,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The collection after the edit", body = AdminCollection),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 409, description = "The new slug is taken (nothing saved)", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules, or names no product; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn update_collection(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CollectionPatch>,
) -> Result<Json<AdminCollection>, AppError> {
    let edit = body.parse()?;
    Ok(Json(
        state
            .services
            .catalog
            .update_collection(&Actor::of(&user)?, &slug, &edit)
            .await?,
    ))
}

/// `DELETE /api/admin/collections/{slug}`: 204; the products stay.
#[utoipa::path(
    delete,
    path = "/admin/collections/{slug}",
    tag = "admin",
    operation_id = "adminDeleteCollection",
    params(("slug" = String, Path, description = "The collection's slug")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Deleted; its products are untouched"),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
        Failures,
    )
)]
pub async fn delete_collection(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .catalog
        .delete_collection(&Actor::of(&user)?, &slug)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/categories`: 201 · 409 duplicate slug · 422 invalid or unknown parent.
#[utoipa::path(
    post,
    path = "/admin/categories",
    tag = "admin",
    operation_id = "adminCreateCategory",
    request_body = CategoryInput,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "The new category", body = AdminCategory),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules, or the parent does not exist; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn create_category(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    ApiJson(body): ApiJson<CategoryInput>,
) -> Result<(StatusCode, Json<AdminCategory>), AppError> {
    let input = body.parse()?;
    let created = state
        .services
        .catalog
        .create_category(&Actor::of(&user)?, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH /api/admin/categories/{slug}`: rename, re-parent (`"parent": null` for the top), reorder.
#[utoipa::path(
    patch,
    path = "/admin/categories/{slug}",
    tag = "admin",
    operation_id = "adminUpdateCategory",
    params(("slug" = String, Path, description = "The category's slug")),
    request_body = CategoryPatch,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The category after the edit", body = AdminCategory),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 409, description = "The new slug is taken, or the new parent is the category itself or below it", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules, or the parent does not exist; `fields` names each", body = ErrorBody),
        Failures,
    )
)]
pub async fn update_category(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CategoryPatch>,
) -> Result<Json<AdminCategory>, AppError> {
    let edit = body.parse()?;
    Ok(Json(
        state
            .services
            .catalog
            .update_category(&Actor::of(&user)?, &slug, &edit)
            .await?,
    ))
}

/// `DELETE /api/admin/categories/{slug}`: 204 · 409 while it holds products or categories.
#[utoipa::path(
    delete,
    path = "/admin/categories/{slug}",
    tag = "admin",
    operation_id = "adminDeleteCategory",
    params(("slug" = String, Path, description = "The category's slug")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 409, description = "It still holds products, or has categories below it", body = ErrorBody),
        Failures,
    )
)]
pub async fn delete_category(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .services
        .catalog
        .delete_category(&Actor::of(&user)?, &slug)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
