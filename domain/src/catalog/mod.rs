//! The catalog service: categories, product listings, search and product pages, and
//! the merchant's product and stock writes, which clear the read cache.

mod products;
mod stock;

use crate::cache::TtlCache;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use types::{
    AppError, CategorySummary, Money, ProductDetail, ProductPage, ProductQuery, ProductSummary,
    Slug, Variant,
};

/// Read access to the catalog, with a short-lived cache in front of Postgres.
#[derive(Clone)]
pub struct Catalog {
    db: PgPool,
    lists: Arc<TtlCache<ProductQuery, ProductPage>>,
    details: Arc<TtlCache<Slug, Option<ProductDetail>>>,
    categories: Arc<TtlCache<(), Vec<CategorySummary>>>,
    featured: Arc<TtlCache<u32, Vec<ProductSummary>>>,
}

impl Catalog {
    /// A catalog on `db`, caching reads for `ttl` (zero turns caching off).
    pub fn new(db: PgPool, ttl: Duration) -> Self {
        Catalog {
            db,
            lists: Arc::new(TtlCache::new(ttl, 4096)),
            details: Arc::new(TtlCache::new(ttl, 4096)),
            categories: Arc::new(TtlCache::new(ttl, 1)),
            featured: Arc::new(TtlCache::new(ttl, 16)),
        }
    }

    /// Drops every cached read, so the next ones see an edit at once.
    pub fn invalidate(&self) {
        self.lists.clear();
        self.details.clear();
        self.categories.clear();
        self.featured.clear();
    }

    /// All categories with their count of active products, in display order.
    pub async fn categories(&self) -> Result<Arc<Vec<CategorySummary>>, AppError> {
        self.categories
            .get_or_load(&(), || self.load_categories())
            .await
    }

    async fn load_categories(&self) -> Result<Vec<CategorySummary>, AppError> {
        let rows = sqlx::query!(
            r#"SELECT c.slug, c.name, count(p.id) AS "product_count!"
               FROM categories c
               LEFT JOIN products p ON p.category_id = c.id AND p.active
               GROUP BY c.id
               ORDER BY c.position, c.name"#
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CategorySummary {
                slug: r.slug,
                name: r.name,
                product_count: r.product_count,
            })
            .collect())
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

    async fn list(
        &self,
        query: &ProductQuery,
        featured_only: bool,
    ) -> Result<ProductPage, AppError> {
        let category = query.category.as_ref().map(Slug::as_str);
        let sort = query.sort.as_str();
        let compact = query.q.as_deref().and_then(compact_term);
        // One statement serves every sort: the CASE keys that do not apply are all NULL.
        // Full-text matches rank first; trigram similarity catches typos in names.
        let rows = sqlx::query!(
            r#"WITH q AS (SELECT websearch_to_tsquery('english', coalesce($2::text, '')) AS ts)
               SELECT p.slug, p.name, COALESCE(p.thumb_url, p.image_url) AS image_url, c.slug AS category,
                      v.min_price AS "price!", v.currency AS "currency!", v.in_stock AS "in_stock!",
                      count(*) OVER () AS "total!"
               FROM products p
               JOIN categories c ON c.id = p.category_id
               CROSS JOIN q
               JOIN LATERAL (
                   SELECT min(price_amount) AS min_price, min(currency) AS currency,
                          bool_or(stock > 0) AS in_stock
                   FROM variants WHERE product_id = p.id
               ) v ON v.min_price IS NOT NULL
               WHERE p.active
                 AND ($1::text IS NULL OR c.slug = $1)
                 AND ($2::text IS NULL OR p.search @@ q.ts OR p.name % $2 OR $2 <% p.name
                      OR p.search_compact LIKE '%' || $7::text || '%')
                 AND (NOT $6 OR p.featured)
               ORDER BY
                 CASE WHEN $3 = 'relevance' AND $2::text IS NOT NULL
                      THEN ts_rank(p.search, q.ts) + similarity(p.name, $2) END DESC NULLS LAST,
                 CASE WHEN $3 = 'price_asc' THEN v.min_price END ASC,
                 CASE WHEN $3 = 'price_desc' THEN v.min_price END DESC,
                 CASE WHEN $3 = 'name' THEN lower(p.name) END ASC,
                 p.created_at DESC, p.id DESC
               LIMIT $4 OFFSET $5"#,
            category,
            query.q.as_deref(),
            sort,
            i64::from(query.per_page),
            query.offset(),
            featured_only,
            compact.as_deref(),
        )
        .fetch_all(&self.db)
        .await?;

        let mut total = rows.first().map(|r| r.total).unwrap_or(0);
        if rows.is_empty() && query.page > 1 {
            // Past the last page the window count is unavailable; count separately.
            total = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM products p JOIN categories c ON c.id = p.category_id
                   WHERE p.active AND ($1::text IS NULL OR c.slug = $1) AND (NOT $3 OR p.featured)
                     AND ($2::text IS NULL OR p.search @@ websearch_to_tsquery('english', $2)
                          OR p.name % $2 OR $2 <% p.name
                          OR p.search_compact LIKE '%' || $4::text || '%')
                     AND EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id)"#,
                category,
                query.q.as_deref(),
                featured_only,
                compact.as_deref(),
            )
            .fetch_one(&self.db)
            .await?;
        }
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(ProductSummary {
                    slug: r.slug,
                    name: r.name,
                    price: Money::from_row(r.price, &r.currency)?,
                    image_url: r.image_url,
                    in_stock: r.in_stock,
                    category: r.category,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(ProductPage {
            items,
            page: query.page,
            per_page: query.per_page,
            total,
        })
    }

    /// Featured active products for the home page, newest first.
    pub async fn featured(&self, limit: u32) -> Result<Arc<Vec<ProductSummary>>, AppError> {
        let query = ProductQuery {
            q: None,
            category: None,
            sort: types::Sort::Newest,
            page: 1,
            per_page: limit,
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
                      c.slug AS category, c.name AS category_name
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
            r#"SELECT sku, name, price_amount, currency, stock
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
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
        let Some(cheapest) = variants.iter().map(|v| v.price).min_by_key(|m| m.amount) else {
            return Ok(None);
        };
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

/// The search text with everything but letters and digits removed, lower-cased, as the
/// `search_compact` column holds names: "t shirt" and "T-Shirt" are both "tshirt". `None`
/// under three characters, where a substring would match nearly everything.
fn compact_term(q: &str) -> Option<String> {
    let compact: String = q
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    (compact.chars().count() >= 3).then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::compact_term;

    #[test]
    fn compound_search_terms_lose_their_separators_and_short_ones_are_dropped() {
        assert_eq!(compact_term("T-Shirt").as_deref(), Some("tshirt"));
        assert_eq!(compact_term("t shirt").as_deref(), Some("tshirt"));
        assert_eq!(compact_term("tshirt").as_deref(), Some("tshirt"));
        assert_eq!(compact_term("a-b"), None);
        assert_eq!(compact_term("%_%"), None);
    }
}
