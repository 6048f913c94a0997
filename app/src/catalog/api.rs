//! Catalog server functions: thin wrappers that call the domain and map errors.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::{
    AppError, CategorySummary, CollectionSummary, ProductDetail, ProductPage, ProductQuery,
    ProductSummary, RawProductQuery,
};

/// What the home page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Home {
    pub categories: Vec<CategorySummary>,
    pub collections: Vec<CollectionSummary>,
    pub featured: Vec<ProductSummary>,
    pub newest: Vec<ProductSummary>,
}

/// A product listing page: a category or search results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The category's display name, on category pages.
    pub category_name: Option<String>,
    /// The categories above this one, top first, as (slug, name), for the breadcrumbs.
    pub ancestors: Vec<(String, String)>,
    /// The categories right below this one, to browse down into.
    pub subcategories: Vec<CategorySummary>,
    /// The query actually used, after bad parameters were dropped.
    pub query: ProductQuery,
    pub results: ProductPage,
    /// Set when some parameters were invalid and were reset.
    pub notice: Option<String>,
    /// The shop's public address, for the page's canonical link.
    pub site: String,
    /// Every category, to name the category facet's values.
    pub categories: Vec<CategorySummary>,
}

/// A product page: the product and the shop's public address, for its absolute links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductScreen {
    pub product: ProductDetail,
    pub site: String,
    /// The product's category and those above it, top first, as (slug, name).
    pub categories: Vec<(String, String)>,
}

/// Categories, featured products and new arrivals for the home page.
#[server(prefix = "/rpc", endpoint = "catalog/home")]
pub async fn get_home() -> Result<Home, AppError> {
    let services = crate::ssr::services()?;
    let catalog = &services.catalog;
    let newest = ProductQuery::parse(&RawProductQuery {
        per_page: Some("8".into()),
        ..Default::default()
    })?;
    let result = async {
        Ok(Home {
            // The top of the tree; each category page leads further down.
            categories: catalog
                .categories()
                .await?
                .iter()
                .filter(|c| c.parent.is_none())
                .cloned()
                .collect(),
            collections: catalog.collections().await?.as_ref().clone(),
            featured: catalog.featured(8).await?.as_ref().clone(),
            newest: catalog.products(&newest).await?.items.clone(),
        })
    }
    .await;
    crate::ssr::respond(result)
}

/// One page of a category listing (when `raw.category` is set) or of search results.
/// Bad sort or paging values are reset with a notice, never an error page; an unknown
/// category is a 404.
// JSON, because the filters are repeated pairs, which a URL-encoded body cannot carry.
#[server(prefix = "/rpc", endpoint = "catalog/listing", input = server_fn::codec::Json)]
pub async fn get_listing(raw: RawProductQuery) -> Result<Listing, AppError> {
    let services = crate::ssr::services()?;
    let catalog = &services.catalog;
    let result = async {
        let (category_name, ancestors, subcategories) = match raw.category.as_deref() {
            None => (None, Vec::new(), Vec::new()),
            Some(slug) => {
                let slug = types::Slug::parse(slug).map_err(|_| AppError::not_found("category"))?;
                let mut chain = catalog.category_chain(&slug).await?;
                let own = chain.pop().map(|(_, name)| name);
                let below = catalog
                    .categories()
                    .await?
                    .iter()
                    .filter(|c| c.parent.as_deref() == Some(slug.as_str()))
                    .cloned()
                    .collect();
                (own, chain, below)
            }
        };
        let (query, err) = ProductQuery::parse_lenient(&raw);
        let notice = err.map(|e| {
            let fields: Vec<_> = e
                .fields()
                .map(|f| f.keys().cloned().collect())
                .unwrap_or_default();
            format!(
                "Some options were not valid and were reset: {}.",
                fields.join(", ")
            )
        });
        let results = catalog.products(&query).await?.as_ref().clone();
        Ok(Listing {
            category_name,
            ancestors,
            subcategories,
            query,
            results,
            notice,
            site: services.public_url.clone(),
            categories: catalog.categories().await?.as_ref().clone(),
        })
    }
    .await;
    crate::ssr::respond(result)
}

/// A product page's data; 404 for unknown or archived products.
#[server(prefix = "/rpc", endpoint = "catalog/product")]
pub async fn get_product(slug: String) -> Result<ProductScreen, AppError> {
    let services = crate::ssr::services()?;
    let result = async {
        let product = services.catalog.product_or_404(&slug).await?;
        let category = types::Slug::parse(&product.summary.category)
            .map_err(|e| AppError::internal("stored category slug", e))?;
        let categories = services.catalog.category_chain(&category).await?;
        Ok(ProductScreen {
            product,
            site: services.public_url.clone(),
            categories,
        })
    }
    .await;
    crate::ssr::respond(result)
}

/// A collection's page: its name and description, and one page of its products.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionListing {
    pub name: String,
    pub description: String,
    /// The paging actually used, after bad values were reset.
    pub query: ProductQuery,
    pub results: ProductPage,
    /// The shop's public address, for the page's canonical link.
    pub site: String,
}

/// One page of a collection, in the merchant's order. Bad paging values fall back to
/// the first page; an unknown collection is a 404.
#[server(prefix = "/rpc", endpoint = "catalog/collection")]
pub async fn get_collection(
    slug: String,
    page: Option<String>,
    per_page: Option<String>,
) -> Result<CollectionListing, AppError> {
    let services = crate::ssr::services()?;
    let result = async {
        let slug = types::Slug::parse(&slug).map_err(|_| AppError::not_found("collection"))?;
        let (query, _) = ProductQuery::parse_lenient(&RawProductQuery {
            page,
            per_page,
            ..Default::default()
        });
        let (name, description, results) = services.catalog.collection_page(&slug, &query).await?;
        Ok(CollectionListing {
            name,
            description,
            query,
            results,
            site: services.public_url.clone(),
        })
    }
    .await;
    crate::ssr::respond(result)
}
