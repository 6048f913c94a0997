//! `/api/catalog/...`: categories, product listings and product details.

use super::ApiQuery;
use super::Failures;
use crate::AppState;
use axum::{
    extract::{Path, RawQuery, State},
    Json,
};
use types::error::ErrorBody;
use types::{
    AppError, CategorySummary, CollectionSummary, ProductDetail, ProductPage, ProductQuery,
    RawProductQuery, Slug,
};

/// `GET /api/catalog/categories`
#[utoipa::path(
    get,
    path = "/catalog/categories",
    tag = "catalog",
    operation_id = "listCategories",
    responses(
        (status = 200, description = "Every category with its count of active products", body = Vec<CategorySummary>),
        Failures,
    )
)]
pub async fn categories(
    State(state): State<AppState>,
) -> Result<Json<Vec<CategorySummary>>, AppError> {
    Ok(Json(
        state.services.catalog.categories().await?.as_ref().clone(),
    ))
}

/// `GET /api/catalog/products?q=&category=&sort=&page=&per_page=&price_min=&price_max=&in_stock=&attr.<name>=&option.<name>=`
///
/// `attr.<name>` and `option.<name>` filter by an attribute or a variant option value;
/// repeating a name is OR, different names are AND. Every facet is counted over the
/// products matching the other active filters.
#[utoipa::path(
    get,
    path = "/catalog/products",
    tag = "catalog",
    operation_id = "listProducts",
    params(RawProductQuery),
    responses(
        (status = 200, description = "One page of products", body = ProductPage),
        (status = 400, description = "A parameter that does not parse, or an unknown sort; `fields` names it", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        Failures,
    )
)]
pub async fn products(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ProductPage>, AppError> {
    // By hand: `attr.<name>` and `option.<name>` repeat, which no derived form allows.
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let raw = RawProductQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let query = ProductQuery::parse(&raw)?;
    Ok(Json(
        state
            .services
            .catalog
            .products(&query)
            .await?
            .as_ref()
            .clone(),
    ))
}

/// `GET /api/catalog/products/{slug}`
#[utoipa::path(
    get,
    path = "/catalog/products/{slug}",
    tag = "catalog",
    operation_id = "getProduct",
    params(("slug" = String, Path, description = "The product's slug")),
    responses(
        (status = 200, description = "The product with its variants", body = ProductDetail),
        (status = 404, description = "No such product, or it is archived", body = ErrorBody),
        Failures,
    )
)]
pub async fn product(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<ProductDetail>, AppError> {
    Ok(Json(state.services.catalog.product_or_404(&slug).await?))
}

/// `GET /api/catalog/collections`
#[utoipa::path(
    get,
    path = "/catalog/collections",
    tag = "catalog",
    operation_id = "listCollections",
    responses(
        (status = 200, description = "Every collection with its count of listed products", body = Vec<CollectionSummary>),
        Failures,
    )
)]
pub async fn collections(
    State(state): State<AppState>,
) -> Result<Json<Vec<CollectionSummary>>, AppError> {
    Ok(Json(
        state.services.catalog.collections().await?.as_ref().clone(),
    ))
}

/// Paging of a collection's page.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollectionParams {
    /// 1-based page number (default 1).
    pub page: Option<String>,
    /// Items per page, 1–100 (default 24).
    pub per_page: Option<String>,
}

/// `GET /api/catalog/collections/{slug}?page=&per_page=`: its products in the merchant's order.
#[utoipa::path(
    get,
    path = "/catalog/collections/{slug}",
    tag = "catalog",
    operation_id = "getCollection",
    params(("slug" = String, Path, description = "The collection's slug"), CollectionParams),
    responses(
        (status = 200, description = "One page of the collection's products, in the merchant's order", body = ProductPage),
        (status = 400, description = "A paging parameter that does not parse; `fields` names it", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
        Failures,
    )
)]
pub async fn collection(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiQuery(params): ApiQuery<CollectionParams>,
) -> Result<Json<ProductPage>, AppError> {
    let slug = Slug::parse(&slug).map_err(|_| AppError::not_found("collection"))?;
    let query = ProductQuery::parse(&RawProductQuery {
        page: params.page,
        per_page: params.per_page,
        ..Default::default()
    })?;
    let (_, _, page) = state
        .services
        .catalog
        .collection_page(&slug, &query)
        .await?;
    Ok(Json(page))
}
