//! The sitemap: every page a search engine should index, with when it last changed.
//!
//! The protocol allows 50,000 URLs per file. Past that, `/sitemap.xml` becomes an index
//! of numbered files, each a fixed slice of one order: categories, then collections, then
//! products, each by id, so a file's contents move only when the catalog does.

use super::Catalog;
use types::AppError;

/// The most URLs one sitemap file may hold (the sitemaps.org limit).
pub const SITEMAP_FILE_LIMIT: i64 = 50_000;

/// One indexable page: its path on the shop and when it last changed (W3C datetime, UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SitemapUrl {
    /// The path, such as `/products/classic-t-shirt`.
    pub path: String,
    /// When the page's content last changed, as `YYYY-MM-DDThh:mm:ssZ`.
    pub lastmod: String,
}

/// What `/sitemap.xml` (or one of its numbered files) holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sitemap {
    /// The URLs themselves: the whole catalog, or one file of a split one.
    Urls(Vec<SitemapUrl>),
    /// A catalog too large for one file: how many numbered files there are (from 1).
    Index {
        /// The number of files.
        files: u32,
    },
}

impl Catalog {
    /// The sitemap: with `file` unset, every URL, or the index once there are more than
    /// [`SITEMAP_FILE_LIMIT`]; with `file` set, that numbered file, or 404 past the last.
    #[tracing::instrument(name = "catalog.sitemap", skip(self))]
    pub async fn sitemap(&self, file: Option<u32>) -> Result<Sitemap, AppError> {
        let counts = sqlx::query!(
            r#"SELECT (SELECT count(*) FROM categories) + (SELECT count(*) FROM collections)
                        AS "sections!",
                      (SELECT coalesce(sum(listed), 0)::int8 FROM listing_counts) AS "products!""#
        )
        .fetch_one(&self.db)
        .await?;
        let total = u64::try_from(counts.sections.saturating_add(counts.products)).unwrap_or(0);
        let files = u32::try_from(total.div_ceil(SITEMAP_FILE_LIMIT.unsigned_abs()).max(1))
            .map_err(|_| AppError::internal("sitemap", "too many sitemap files"))?;
        let file = match file {
            None if files > 1 => return Ok(Sitemap::Index { files }),
            None => 1,
            Some(n) if (1..=files).contains(&n) => n,
            Some(_) => return Err(AppError::not_found("sitemap file")),
        };
        let start = i64::from(file - 1) * SITEMAP_FILE_LIMIT;
        let mut urls = Vec::new();
        if start < counts.sections {
            urls.extend(self.section_urls(start, SITEMAP_FILE_LIMIT).await?);
        }
        let taken = i64::try_from(urls.len()).unwrap_or(SITEMAP_FILE_LIMIT);
        let product_start = (start - counts.sections).max(0);
        let room = SITEMAP_FILE_LIMIT - taken;
        if room > 0 {
            urls.extend(self.product_urls(product_start, room).await?);
        }
        Ok(Sitemap::Urls(urls))
    }

    /// Category and collection pages; one changes when it does, or any product it lists.
    async fn section_urls(&self, offset: i64, limit: i64) -> Result<Vec<SitemapUrl>, AppError> {
        Ok(sqlx::query_as!(
            SitemapUrl,
            r#"SELECT s.path AS "path!",
                      to_char(s.changed AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                        AS "lastmod!"
               FROM (
                   SELECT 0 AS kind, c.id, '/categories/' || c.slug AS path,
                          greatest(c.updated_at, (
                              SELECT max(greatest(p.updated_at,
                                                  (SELECT max(v.updated_at) FROM variants v
                                                    WHERE v.product_id = p.id)))
                                FROM products p
                               WHERE p.category_id = c.id AND p.active AND p.min_price IS NOT NULL
                          )) AS changed
                     FROM categories c
                   UNION ALL
                   SELECT 1, k.id, '/collections/' || k.slug,
                          greatest(k.updated_at, (
                              SELECT max(greatest(p.updated_at,
                                                  (SELECT max(v.updated_at) FROM variants v
                                                    WHERE v.product_id = p.id)))
                                FROM collection_products cp JOIN products p ON p.id = cp.product_id
                               WHERE cp.collection_id = k.id AND p.active AND p.min_price IS NOT NULL
                          ))
                     FROM collections k
               ) s
               ORDER BY s.kind, s.id
               OFFSET $1 LIMIT $2"#,
            offset,
            limit
        )
        .fetch_all(&self.db)
        .await?)
    }

    /// Listed product pages (active, with a variant); a price or stock change counts.
    async fn product_urls(&self, offset: i64, limit: i64) -> Result<Vec<SitemapUrl>, AppError> {
        Ok(sqlx::query_as!(
            SitemapUrl,
            r#"SELECT '/products/' || p.slug AS "path!",
                      to_char(greatest(p.updated_at,
                                       (SELECT max(v.updated_at) FROM variants v
                                         WHERE v.product_id = p.id)) AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "lastmod!"
               FROM products p
               WHERE p.active AND p.min_price IS NOT NULL
               ORDER BY p.id
               OFFSET $1 LIMIT $2"#,
            offset,
            limit
        )
        .fetch_all(&self.db)
        .await?)
    }
}
