//! Facet counts for a listing, in one statement: every (product, variant) row of the
//! listing's scope and text match is tagged with the filters it misses, and each facet
//! counts the rows that miss nothing but its own filter. That is the shops' rule: choosing
//! Red still shows how many products are Blue. The category facet, which drops the
//! category itself, counts the products of every category.
//!
//! Counting reads every product the listing could show, so the counts are cached for
//! `FACET_CACHE_TTL_SECS` (one load per key at a time) and cleared by every catalog edit.

use super::listing::Scope;
use super::Catalog;
use sqlx::types::Json;
use std::collections::BTreeMap;
use types::facets::{FacetCount, Facets, ListingFilters, PriceFacet, StockFacet};
use types::AppError;

/// What a listing's facets depend on: not its sort or page.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct FacetKey {
    leaf: Option<i64>,
    subtree: Option<Vec<i64>>,
    words: Option<String>,
    compact: Option<String>,
    filters: ListingFilters,
}

impl Catalog {
    /// The facets of a listing over `scope`, whose products match `words` (or, given
    /// `compact`, hold those letters in their name) and `filters`; cached.
    pub(super) async fn facets(
        &self,
        scope: Scope<'_>,
        words: Option<&str>,
        compact: Option<&str>,
        filters: &ListingFilters,
    ) -> Result<Facets, AppError> {
        let key = FacetKey {
            leaf: scope.leaf,
            subtree: scope.subtree.map(<[i64]>::to_vec),
            words: words.map(str::to_owned),
            compact: compact.map(str::to_owned),
            filters: filters.clone(),
        };
        let facets = self
            .facets
            .get_or_load(&key, || self.count_facets(scope, words, compact, filters))
            .await?;
        Ok(facets.as_ref().clone())
    }

    #[tracing::instrument(name = "catalog.facets", skip_all)]
    async fn count_facets(
        &self,
        scope: Scope<'_>,
        words: Option<&str>,
        compact: Option<&str>,
        filters: &ListingFilters,
    ) -> Result<Facets, AppError> {
        let variant_filters = filters.price_min.is_some()
            || filters.price_max.is_some()
            || filters.in_stock
            || !filters.options.is_empty();
        let row = sqlx::query!(
            r#"WITH q AS (SELECT websearch_to_tsquery('english', $3::text) AS ts),
               matched AS (
                   SELECT p.id, p.category_id, p.attributes,
                          (($1::int8 IS NULL OR p.category_id = $1)
                            AND ($2::int8[] IS NULL OR p.category_id = ANY($2))) AS in_scope,
                          ARRAY(SELECT 'a:' || f.key FROM jsonb_each($5::jsonb) f
                                 WHERE NOT coalesce(f.value ? (p.attributes->>f.key), false))
                            AS attr_misses
                     FROM products p CROSS JOIN q
                    WHERE p.active AND p.min_price IS NOT NULL
                      AND ($3::text IS NULL OR p.search @@ q.ts
                           OR ($4::text IS NOT NULL
                               AND p.search_compact LIKE '%' || $4::text || '%'))
               ),
               rows AS (
                   SELECT m.id, m.attributes, v.options, v.price_amount, v.stock,
                          array_remove(ARRAY[
                              CASE WHEN ($7::int8 IS NOT NULL AND v.price_amount < $7)
                                     OR ($8::int8 IS NOT NULL AND v.price_amount > $8) THEN 'p' END,
                              CASE WHEN $9 AND v.stock <= 0 THEN 's' END], NULL)
                          || m.attr_misses
                          || ARRAY(SELECT 'o:' || f.key FROM jsonb_each($6::jsonb) f
                                    WHERE NOT coalesce(f.value ? (v.options->>f.key), false))
                            AS misses
                     FROM matched m JOIN variants v ON v.product_id = m.id
                    WHERE m.in_scope
               )
               SELECT
                 (SELECT coalesce(jsonb_agg(jsonb_build_object('value', c.slug, 'count', x.n)
                                            ORDER BY x.n DESC, c.slug), '[]')
                    FROM (SELECT m.category_id, count(*) AS n FROM matched m
                           WHERE cardinality(m.attr_misses) = 0
                             AND (NOT $10 OR EXISTS (
                                 SELECT 1 FROM variants v
                                  WHERE v.product_id = m.id
                                    AND ($7::int8 IS NULL OR v.price_amount >= $7)
                                    AND ($8::int8 IS NULL OR v.price_amount <= $8)
                                    AND (NOT $9 OR v.stock > 0)
                                    AND NOT EXISTS (
                                        SELECT 1 FROM jsonb_each($6::jsonb) f
                                         WHERE NOT coalesce(f.value ? (v.options->>f.key), false))))
                           GROUP BY m.category_id) x
                    JOIN categories c ON c.id = x.category_id)
                   AS "category!: Json<Vec<FacetCount>>",
                 (SELECT coalesce(jsonb_object_agg(g.name, g.vals), '{}')
                    FROM (SELECT a.key AS name,
                                 jsonb_agg(jsonb_build_object('value', a.value, 'count', a.n)
                                           ORDER BY a.n DESC, a.value) AS vals
                            FROM (SELECT a.key, a.value, count(DISTINCT r.id) AS n
                                    FROM rows r CROSS JOIN jsonb_each_text(r.attributes) a
                                   WHERE r.misses <@ ARRAY['a:' || a.key]
                                   GROUP BY a.key, a.value) a
                           GROUP BY a.key) g)
                   AS "attributes!: Json<BTreeMap<String, Vec<FacetCount>>>",
                 (SELECT coalesce(jsonb_object_agg(g.name, g.vals), '{}')
                    FROM (SELECT o.key AS name,
                                 jsonb_agg(jsonb_build_object('value', o.value, 'count', o.n)
                                           ORDER BY array_position(po.option_values, o.value)
                                                    NULLS LAST, o.value) AS vals
                            FROM (SELECT o.key, o.value, count(DISTINCT r.id) AS n,
                                         min(r.id) AS sample
                                    FROM rows r CROSS JOIN jsonb_each_text(r.options) o
                                   WHERE r.misses <@ ARRAY['o:' || o.key]
                                   GROUP BY o.key, o.value) o
                            LEFT JOIN product_options po
                              ON po.product_id = o.sample AND po.name = o.key
                           GROUP BY o.key) g)
                   AS "options!: Json<BTreeMap<String, Vec<FacetCount>>>",
                 (SELECT min(price_amount) FROM rows WHERE misses <@ ARRAY['p']) AS price_min,
                 (SELECT max(price_amount) FROM rows WHERE misses <@ ARRAY['p']) AS price_max,
                 (SELECT count(DISTINCT id) FILTER (WHERE stock > 0) FROM rows
                   WHERE misses <@ ARRAY['s']) AS "available!",
                 (SELECT count(DISTINCT id) FROM rows WHERE misses <@ ARRAY['s']) AS "listed!""#,
            scope.leaf,
            scope.subtree,
            words,
            compact,
            Json(&filters.attributes) as _,
            Json(&filters.options) as _,
            filters.price_min,
            filters.price_max,
            filters.in_stock,
            variant_filters,
        )
        .fetch_one(&self.db)
        .await?;
        Ok(Facets {
            category: row.category.0,
            attributes: row.attributes.0,
            options: row.options.0,
            price: PriceFacet {
                min: row.price_min,
                max: row.price_max,
            },
            in_stock: StockFacet {
                available: row.available,
                sold_out: row.listed - row.available,
            },
        })
    }
}
