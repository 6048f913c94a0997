//! The catalog service: categories, product listings, search and product pages, and
//! the merchant's product and stock writes, which clear the read cache.

mod categories;
mod collections;
mod facets;
mod gallery;
mod listing;
mod options;
mod products;
mod sitemap;
mod stock;
mod tree;

pub use sitemap::{Sitemap, SitemapUrl, SITEMAP_FILE_LIMIT};
use tree::CategoryTree;

use crate::cache::TtlCache;
use sqlx::types::Json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use types::facets::Facets;
use types::options::{Attributes, OptionValues};
use types::{
    AppError, CategorySummary, CollectionSummary, Money, ProductDetail, ProductPage, ProductQuery,
    ProductSummary, Slug, Variant,
};

/// Read access to the catalog, with a short-lived cache in front of Postgres.
#[derive(Clone)]
pub struct Catalog {
    db: PgPool,
    lists: Arc<TtlCache<ProductQuery, ProductPage>>,
    details: Arc<TtlCache<Slug, Option<ProductDetail>>>,
    categories: Arc<TtlCache<(), Vec<CategorySummary>>>,
    tree: Arc<TtlCache<(), CategoryTree>>,
    collections: Arc<TtlCache<(), Vec<CollectionSummary>>>,
    featured: Arc<TtlCache<u32, Vec<ProductSummary>>>,
    facets: Arc<TtlCache<facets::FacetKey, Facets>>,
}

impl Catalog {
    /// A catalog on `db`, caching reads for `ttl` and facet counts for `facet_ttl` (zero
    /// turns either off). Facets are kept longer: they read every product a listing could
    /// show, where a page reads 24.
    pub fn new(db: PgPool, ttl: Duration, facet_ttl: Duration) -> Self {
        Catalog {
            db,
            lists: Arc::new(TtlCache::new(ttl, 4096)),
            details: Arc::new(TtlCache::new(ttl, 4096)),
            categories: Arc::new(TtlCache::new(ttl, 1)),
            tree: Arc::new(TtlCache::new(ttl, 1)),
            collections: Arc::new(TtlCache::new(ttl, 1)),
            featured: Arc::new(TtlCache::new(ttl, 16)),
            facets: Arc::new(TtlCache::new(facet_ttl, 1024)),
        }
    }

    /// Drops every cached read, so the next ones see an edit at once.
    pub fn invalidate(&self) {
        self.lists.clear();
        self.details.clear();
        self.categories.clear();
        self.tree.clear();
        self.collections.clear();
        self.featured.clear();
        self.facets.clear();
    }

    /// All categories with the count of products each lists, in display order.
    pub async fn categories(&self) -> Result<Arc<Vec<CategorySummary>>, AppError> {
        self.categories
            .get_or_load(&(), || self.load_categories())
            .await
    }

    async fn load_categories(&self) -> Result<Vec<CategorySummary>, AppError> {
        let tree = self.tree().await?;
        Ok(tree.summaries())
    }

    /// The category tree, cached: every category with its parent and listed count.
    async fn tree(&self) -> Result<Arc<CategoryTree>, AppError> {
        self.tree
            .get_or_load(&(), || CategoryTree::load(&self.db))
            .await
    }

    /// The ids of a category and every category below it, for listings; empty for an
    /// unknown slug, so it lists nothing.
    pub(super) async fn subtree_ids(&self, slug: &Slug) -> Result<Vec<i64>, AppError> {
        Ok(self.tree().await?.subtree(slug.as_str()))
    }

    /// The breadcrumb chain from the top category down to `slug`, as (slug, name); 404
    /// for an unknown category.
    pub async fn category_chain(&self, slug: &Slug) -> Result<Vec<(String, String)>, AppError> {
        let chain = self.tree().await?.chain(slug.as_str());
        if chain.is_empty() {
            return Err(AppError::not_found("category"));
        }
        Ok(chain)
    }

    /// The category's display name, or 404.
    pub async fn category_name(&self, slug: &Slug) -> Result<String, AppError> {
        let all = self.categories().await?;
        all.iter()
            .find(|c| c.slug == slug.as_str())
            .map(|c| c.name.clone())
            .ok_or_else(|| AppError::not_found("category"))
    }

    /// One page of active products matching `query`.
    pub async fn products(&self, query: &ProductQuery) -> Result<Arc<ProductPage>, AppError> {
        self.lists
            .get_or_load(query, || self.list(query, false))
            .await
    }

    /// Featured active products for the home page, newest first.
    pub async fn featured(&self, limit: u32) -> Result<Arc<Vec<ProductSummary>>, AppError> {
        let query = ProductQuery {
            q: None,
            category: None,
            sort: types::Sort::Newest,
            page: 1,
            per_page: limit,
            filters: Default::default(),
        };
        self.featured
            .get_or_load(&limit, || async {
                Ok(self.list(&query, true).await?.items)
            })
            .await
    }

    /// The product page for `slug`, or 404 when it is unknown, archived or has no variants.
    pub async fn product(&self, slug: &Slug) -> Result<Arc<Option<ProductDetail>>, AppError> {
        self.details
            .get_or_load(slug, || self.load_product(slug))
            .await
    }

    async fn load_product(&self, slug: &Slug) -> Result<Option<ProductDetail>, AppError> {
        let Some(p) = sqlx::query!(
            r#"SELECT p.id, p.slug, p.name, p.description, p.image_url,
                      c.slug AS category, c.name AS category_name,
                      p.attributes AS "attributes: Json<Attributes>"
               FROM products p JOIN categories c ON c.id = p.category_id
               WHERE p.slug = $1 AND p.active"#,
            slug.as_str()
        )
        .fetch_optional(&self.db)
        .await?
        else {
            return Ok(None);
        };
        let variants = sqlx::query!(
            r#"SELECT sku, name, price_amount, currency, stock,
                      options AS "options: Json<OptionValues>"
               FROM variants WHERE product_id = $1 ORDER BY position, id"#,
            p.id
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|v| {
            Ok(Variant {
                sku: v.sku,
                name: v.name,
                price: Money::from_row(v.price_amount, &v.currency)?,
                available: i64::from(v.stock),
                options: v.options.0,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
        let Some(cheapest) = variants.iter().map(|v| v.price).min_by_key(|m| m.amount) else {
            return Ok(None);
        };
        let mut conn = self.db.acquire().await?;
        let images = Self::stored_images(&mut conn, p.id).await?;
        Ok(Some(ProductDetail {
            summary: ProductSummary {
                slug: p.slug,
                name: p.name,
                price: cheapest,
                image_url: p.image_url,
                in_stock: variants.iter().any(|v| v.available > 0),
                category: p.category,
            },
            description: p.description,
            category_name: p.category_name,
            options: Self::stored_options(&mut conn, p.id).await?,
            attributes: p.attributes.0,
            images,
            variants,
        }))
    }

    /// Like [`Catalog::product`], but unknown products are a 404 error.
    pub async fn product_or_404(&self, slug: &str) -> Result<ProductDetail, AppError> {
        let slug = Slug::parse(slug).map_err(|_| AppError::not_found("product"))?;
        self.product(&slug)
            .await?
            .as_ref()
            .clone()
            .ok_or_else(|| AppError::not_found("product"))
    }
}
