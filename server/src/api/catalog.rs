//! `/api/catalog/...`: categories, product listings and product details.

use super::ApiQuery;
use crate::AppState;
use axum::{
    extract::{Path, State},
    Json,
};
use types::{AppError, CategorySummary, ProductDetail, ProductPage, ProductQuery, RawProductQuery};

/// `GET /api/catalog/categories`
pub async fn categories(
    State(state): State<AppState>,
) -> Result<Json<Vec<CategorySummary>>, AppError> {
    Ok(Json(
        state.services.catalog.categories().await?.as_ref().clone(),
    ))
}

/// `GET /api/catalog/products?q=&category=&sort=&page=&per_page=`
pub async fn products(
    State(state): State<AppState>,
    ApiQuery(raw): ApiQuery<RawProductQuery>,
) -> Result<Json<ProductPage>, AppError> {
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
pub async fn product(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<ProductDetail>, AppError> {
    Ok(Json(state.services.catalog.product_or_404(&slug).await?))
}
