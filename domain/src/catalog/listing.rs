//! Product lists: browsing (the whole catalog, a category, the featured shelf) and search.
//!
//! Browsing costs the same at any catalog size: each sort has a partial index holding only
//! listed products, the cheapest price lives on the product (kept by triggers) and the
//! totals come from the `listing_counts` counters, so a page reads its 24 rows and no more.
//! Search ranks only what it matched: words first, and only when they find nothing, the
//! words corrected against the catalog's own vocabulary (typos) together with the letters
//! run together (compounds).

use super::Catalog;
use sqlx::types::Json;
use types::{AppError, Money, ProductPage, ProductQuery, ProductSummary};

/// Which categories a listing covers: one (`leaf`), several (`subtree`; empty for an
/// unknown category, which lists nothing), or all (neither).
#[derive(Clone, Copy, Default)]
pub(super) struct Scope<'a> {
    /// One category, filtered by its id.
    pub leaf: Option<i64>,
    /// A category and those below it.
    pub subtree: Option<&'a [i64]>,
}

impl Catalog {
    /// One page of active products matching `query`, straight from Postgres.
    pub(super) async fn list(
        &self,
        query: &ProductQuery,
        featured_only: bool,
    ) -> Result<ProductPage, AppError> {
        // A category lists its own products and those of every category below it. A leaf
        // (most categories) is filtered by its one id, so its sorted partial index serves
        // the page in order; a subtree takes the `ANY` filter.
        let ids = match &query.category {
            Some(slug) => Some(self.subtree_ids(slug).await?),
            None => None,
        };
        let scope = match ids.as_deref() {
            None => Scope::default(),
            Some(&[leaf]) => Scope {
                leaf: Some(leaf),
                subtree: None,
            },
            Some(ids) => Scope {
                leaf: None,
                subtree: Some(ids),
            },
        };
        // The page and its facets are two statements on two connections, run together.
        // A filtered browse pages like a search without words: the category counters no
        // longer give its total.
        let filtered = !query.filters.is_empty();
        let ((items, total), facets) = match query.q.as_deref() {
            None if filtered => tokio::try_join!(
                self.search(None, None, query, scope, featured_only),
                self.facets_unless(featured_only, scope, None, None, &query.filters),
            )?,
            None => tokio::try_join!(
                self.browse(query, scope, featured_only),
                self.facets_unless(featured_only, scope, None, None, &query.filters),
            )?,
            Some(q) => {
                let found = tokio::try_join!(
                    self.search(Some(q), None, query, scope, featured_only),
                    self.facets_unless(featured_only, scope, Some(q), None, &query.filters),
                )?;
                if found.0 .1 > 0 {
                    found
                } else {
                    let corrected = self.correct_typos(q).await?;
                    let compact = compact_term(q);
                    let (words, compact) = (Some(corrected.as_str()), compact.as_deref());
                    tokio::try_join!(
                        self.search(words, compact, query, scope, featured_only),
                        self.facets_unless(featured_only, scope, words, compact, &query.filters),
                    )?
                }
            }
        };
        Ok(ProductPage {
            items,
            page: query.page,
            per_page: query.per_page,
            total,
            facets,
        })
    }

    /// The listing's facets; none for the home page's featured shelf, which shows none.
    async fn facets_unless(
        &self,
        featured_only: bool,
        scope: Scope<'_>,
        words: Option<&str>,
        compact: Option<&str>,
        filters: &types::facets::ListingFilters,
    ) -> Result<types::facets::Facets, AppError> {
        if featured_only {
            return Ok(types::facets::Facets::default());
        }
        self.facets(scope, words, compact, filters).await
    }

    /// A page of a category or of the whole catalog, in one statement. Planned with its
    /// values, the sort keys that do not apply fold away and Postgres walks the one index
    /// for this sort and scope. A generic plan could use no index at all, so its estimate is
    /// far above these and Postgres keeps planning each execution with the values.
    #[tracing::instrument(name = "catalog.browse", skip_all, fields(sort = query.sort.as_str()))]
    async fn browse(
        &self,
        query: &ProductQuery,
        scope: Scope<'_>,
        featured_only: bool,
    ) -> Result<(Vec<ProductSummary>, i64), AppError> {
        let rows = sqlx::query!(
            r#"SELECT t.total AS "total!", page.slug AS "slug?", page.name AS "name?",
                      page.image_url, page.min_price AS "price?", page.price_currency AS "currency?",
                      (SELECT slug FROM categories WHERE id = page.category_id) AS "category?",
                      EXISTS (SELECT 1 FROM variants v WHERE v.product_id = page.id AND v.stock > 0)
                        AS "in_stock!"
               FROM (SELECT coalesce(sum(CASE WHEN $2 THEN lc.featured ELSE lc.listed END), 0)::int8
                              AS total
                       FROM listing_counts lc
                      WHERE ($1::int8 IS NULL OR lc.category_id = $1)
                        AND ($6::int8[] IS NULL OR lc.category_id = ANY($6))) t
               LEFT JOIN LATERAL (
                   SELECT p.id, p.slug, p.name, COALESCE(p.thumb_url, p.image_url) AS image_url,
                          p.category_id, p.min_price, p.price_currency, p.created_at,
                          lower(p.name) AS name_key
                     FROM products p
                    WHERE p.active AND p.min_price IS NOT NULL
                      AND ($1::int8 IS NULL OR p.category_id = $1)
                      AND ($6::int8[] IS NULL OR p.category_id = ANY($6))
                      AND (NOT $2 OR p.featured)
                    ORDER BY
                      CASE WHEN $3 = 'price_asc' THEN p.min_price END ASC,
                      CASE WHEN $3 = 'price_desc' THEN p.min_price END DESC,
                      CASE WHEN $3 = 'name' THEN lower(p.name) END ASC,
                      p.created_at DESC, p.id DESC
                    LIMIT $4 OFFSET $5
               ) page ON true
               ORDER BY
                 CASE WHEN $3 = 'price_asc' THEN page.min_price END ASC,
                 CASE WHEN $3 = 'price_desc' THEN page.min_price END DESC,
                 CASE WHEN $3 = 'name' THEN page.name_key END ASC,
                 page.created_at DESC, page.id DESC"#,
            scope.leaf,
            featured_only,
            query.sort.as_str(),
            i64::from(query.per_page),
            query.offset(),
            scope.subtree,
        )
        .fetch_all(&self.db)
        .await?;
        let total = rows.first().map_or(0, |r| r.total);
        let items = rows
            .into_iter()
            .filter_map(|r| {
                let (slug, name, price, currency, category) =
                    (r.slug?, r.name?, r.price?, r.currency?, r.category?);
                Some(
                    Money::from_row(price, &currency).map(|price| ProductSummary {
                        slug,
                        name,
                        price,
                        image_url: r.image_url,
                        in_stock: r.in_stock,
                        category,
                    }),
                )
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok((items, total))
    }

    /// The shopper's words, each replaced by the nearest word the catalog uses when it is
    /// not one: at most one edit away for words of up to four letters and two beyond, a swap
    /// of neighbours counting as one. Ties go to the word with the same first letter, then
    /// to the one more products use. Words with digits or under three letters stay as typed.
    #[tracing::instrument(name = "catalog.correct_typos", skip_all)]
    async fn correct_typos(&self, q: &str) -> Result<String, AppError> {
        let corrected = sqlx::query_scalar!(
            r#"SELECT string_agg(coalesce(fix.word, t.w), ' ' ORDER BY t.n) AS "corrected"
                 FROM regexp_split_to_table(lower($1), '[^[:alnum:]]+') WITH ORDINALITY AS t(w, n)
                 LEFT JOIN LATERAL (
                     SELECT c.word
                       FROM (SELECT l.word, l.uses,
                                    search_typo_distance(t.w, l.word,
                                        levenshtein_less_equal(t.w, l.word, 2)) AS d
                               FROM search_lexicon l
                              WHERE length(l.word) BETWEEN length(t.w) - 2 AND length(t.w) + 2
                                AND levenshtein_less_equal(t.w, l.word, 2) <= 2) c
                      WHERE c.d <= CASE WHEN length(t.w) <= 4 THEN 1 ELSE 2 END
                      ORDER BY c.d, left(c.word, 1) = left(t.w, 1) DESC, c.uses DESC, c.word
                      LIMIT 1
                 ) fix ON length(t.w) >= 3 AND t.w ~ '^[[:alpha:]]+$'
                WHERE t.w <> ''"#,
            q,
        )
        .fetch_one(&self.db)
        .await?;
        Ok(corrected.unwrap_or_default())
    }

    /// A page of search results: products whose text holds `words` (stemmed full text) or,
    /// given `compact`, whose name holds those letters run together ("tshirt" is
    /// "T-Shirt"). Compound matches rank first, then by full-text rank. Without words it
    /// pages a filtered browse. A product passes the filters when its attributes do and
    /// one of its variants meets the price, stock and option filters together.
    #[tracing::instrument(name = "catalog.search", skip_all, fields(compound = compact.is_some()))]
    async fn search(
        &self,
        words: Option<&str>,
        compact: Option<&str>,
        query: &ProductQuery,
        scope: Scope<'_>,
        featured_only: bool,
    ) -> Result<(Vec<ProductSummary>, i64), AppError> {
        let f = &query.filters;
        let variant_filters =
            f.price_min.is_some() || f.price_max.is_some() || f.in_stock || !f.options.is_empty();
        let rows = sqlx::query!(
            r#"WITH q AS (SELECT websearch_to_tsquery('english', $2::text) AS ts)
               SELECT page.slug, page.name, page.image_url, page.min_price AS "price!",
                      page.price_currency AS "currency!", page.total AS "total!",
                      (SELECT slug FROM categories WHERE id = page.category_id) AS "category!",
                      EXISTS (SELECT 1 FROM variants v WHERE v.product_id = page.id AND v.stock > 0)
                        AS "in_stock!"
               FROM (
                   SELECT p.id, p.slug, p.name, COALESCE(p.thumb_url, p.image_url) AS image_url,
                          p.category_id, p.min_price, p.price_currency,
                          count(*) OVER () AS total,
                          row_number() OVER (ORDER BY
                            CASE WHEN $3 = 'relevance'
                                 THEN p.search_compact LIKE '%' || $7::text || '%' END
                              DESC NULLS LAST,
                            CASE WHEN $3 = 'relevance' THEN ts_rank(p.search, q.ts) END
                              DESC NULLS LAST,
                            CASE WHEN $3 = 'price_asc' THEN p.min_price END ASC,
                            CASE WHEN $3 = 'price_desc' THEN p.min_price END DESC,
                            CASE WHEN $3 = 'name' THEN lower(p.name) END ASC,
                            p.created_at DESC, p.id DESC) AS n
                     FROM products p CROSS JOIN q
                    WHERE p.active AND p.min_price IS NOT NULL
                      AND ($1::int8 IS NULL OR p.category_id = $1)
                      AND ($8::int8[] IS NULL OR p.category_id = ANY($8))
                      AND (NOT $6 OR p.featured)
                      AND ($2::text IS NULL OR p.search @@ q.ts
                           OR ($7::text IS NOT NULL
                               AND p.search_compact LIKE '%' || $7::text || '%'))
                      AND NOT EXISTS (SELECT 1 FROM jsonb_each($9::jsonb) f
                                       WHERE NOT coalesce(f.value ? (p.attributes->>f.key), false))
                      AND (NOT $10 OR EXISTS (
                          SELECT 1 FROM variants v
                           WHERE v.product_id = p.id
                             AND ($11::int8 IS NULL OR v.price_amount >= $11)
                             AND ($12::int8 IS NULL OR v.price_amount <= $12)
                             AND (NOT $13 OR v.stock > 0)
                             AND NOT EXISTS (
                                 SELECT 1 FROM jsonb_each($14::jsonb) f
                                  WHERE NOT coalesce(f.value ? (v.options->>f.key), false))))
                    ORDER BY n
                    LIMIT $4 OFFSET $5
               ) page
               ORDER BY page.n"#,
            scope.leaf,
            words,
            query.sort.as_str(),
            i64::from(query.per_page),
            query.offset(),
            featured_only,
            compact,
            scope.subtree,
            Json(&f.attributes) as _,
            variant_filters,
            f.price_min,
            f.price_max,
            f.in_stock,
            Json(&f.options) as _,
        )
        .fetch_all(&self.db)
        .await?;
        let mut total = rows.first().map_or(0, |r| r.total);
        if rows.is_empty() && query.page > 1 {
            // Past the last page there is no row to carry the count; ask page one for it.
            let first = ProductQuery {
                page: 1,
                per_page: 1,
                ..query.clone()
            };
            total = Box::pin(self.search(words, compact, &first, scope, featured_only))
                .await?
                .1;
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
        Ok((items, total))
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
