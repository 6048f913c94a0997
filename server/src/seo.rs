//! What search engines read: `robots.txt`, which names the sitemap, and the sitemap
//! itself (`/sitemap.xml`, and `/sitemaps/{n}.xml` once the catalog outgrows one file).

use crate::AppState;
use axum::{
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use domain::catalog::{Sitemap, SitemapUrl};
use std::fmt::Write as _;
use types::AppError;

/// Crawlers may cache these for an hour; the catalog's own cache is far shorter.
const CACHE: &str = "public, max-age=3600";

/// `GET /robots.txt`: what crawlers may skip, and where the sitemap is. The `Sitemap:`
/// line must be absolute, so it is built from `PUBLIC_URL` rather than served as a file.
pub async fn robots(State(state): State<AppState>) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /search\nDisallow: /api/\nDisallow: /rpc/\nDisallow: /cart\n\
         Disallow: /checkout\nDisallow: /orders\nDisallow: /account\nDisallow: /admin\n\nSitemap: {}/sitemap.xml\n",
        state.services.public_url
    );
    text(body, "text/plain; charset=utf-8")
}

/// `GET /sitemap.xml`: every category and listed product with its `lastmod`, or the
/// sitemap index once there are more than 50,000.
pub async fn sitemap(State(state): State<AppState>) -> Result<Response, AppError> {
    let map = state.services.catalog.sitemap(None).await?;
    Ok(xml(render(&state.services.public_url, &map)))
}

/// `GET /sitemaps/{n}.xml`: one numbered file of a split sitemap; 404 past the last.
pub async fn sitemap_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let file = name
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| AppError::not_found("sitemap file"))?;
    let map = state.services.catalog.sitemap(Some(file)).await?;
    Ok(xml(render(&state.services.public_url, &map)))
}

fn render(base: &str, map: &Sitemap) -> String {
    let base = escape(base);
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push('\n');
    match map {
        Sitemap::Index { files } => {
            out.push_str(r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#);
            for n in 1..=*files {
                let _ = write!(
                    out,
                    "\n<sitemap><loc>{base}/sitemaps/{n}.xml</loc></sitemap>"
                );
            }
            out.push_str("\n</sitemapindex>\n");
        }
        Sitemap::Urls(urls) => {
            out.push_str(r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#);
            for SitemapUrl { path, lastmod } in urls {
                let _ = write!(
                    out,
                    "\n<url><loc>{base}{}</loc><lastmod>{}</lastmod></url>",
                    escape(path),
                    escape(lastmod)
                );
            }
            out.push_str("\n</urlset>\n");
        }
    }
    out
}

/// XML-escapes text; slugs cannot hold these, but `PUBLIC_URL` may hold `&`.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml(body: String) -> Response {
    text(body, "application/xml; charset=utf-8")
}

fn text(body: String, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(CACHE)),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_sitemap_is_an_index_of_numbered_files() {
        let xml = render("https://shop.example", &Sitemap::Index { files: 2 });
        assert!(xml.contains("<sitemapindex"));
        assert!(xml.contains("<loc>https://shop.example/sitemaps/1.xml</loc>"));
        assert!(xml.contains("<loc>https://shop.example/sitemaps/2.xml</loc>"));
        assert!(!xml.contains("3.xml"));
    }

    #[test]
    fn urls_are_absolute_and_escaped() {
        let map = Sitemap::Urls(vec![SitemapUrl {
            path: "/products/a".into(),
            lastmod: "2026-12-04T01:02:03Z".into(),
        }]);
        let xml = render("https://shop.example/?a=1&b=2", &map);
        assert!(xml.contains(
            "<url><loc>https://shop.example/?a=1&amp;b=2/products/a</loc><lastmod>2026-12-04T01:02:03Z</lastmod></url>"
        ));
    }
}
