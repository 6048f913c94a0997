//! What search engines read: robots.txt, the sitemap (split past 50,000 URLs), and the
//! canonical links, Open Graph tags and JSON-LD of product and category pages.

use crate::common::{seed, spawn_with};
use sqlx::PgPool;

const SHOP: &[(&str, &str)] = &[("PUBLIC_URL", "https://shop.example.com/")];

/// The `<loc>` values of a sitemap or sitemap index, in order.
fn locs(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</loc>").map(|(loc, _)| loc.to_owned()))
        .collect()
}

/// The `<lastmod>` of the `<url>` whose `<loc>` is `loc`.
fn lastmod(xml: &str, loc: &str) -> String {
    let at = xml
        .find(&format!("<loc>{loc}</loc>"))
        .unwrap_or_else(|| panic!("{loc} is listed"));
    let rest = &xml[at..];
    let start = rest.find("<lastmod>").expect("a lastmod") + "<lastmod>".len();
    let end = rest.find("</lastmod>").expect("closed");
    rest[start..end].to_owned()
}

/// The JSON-LD block of a page.
fn json_ld(html: &str) -> serde_json::Value {
    let open = r#"<script type="application/ld+json">"#;
    let start = html.find(open).expect("a JSON-LD block") + open.len();
    let end = start + html[start..].find("</script>").expect("closed");
    serde_json::from_str(&html[start..end]).expect("the block is valid JSON")
}

/// A listed apparel product other than the classic T-shirt.
async fn another_apparel_product(db: &PgPool) -> String {
    sqlx::query_scalar!(
        "SELECT p.slug FROM products p JOIN categories c ON c.id = p.category_id
          WHERE c.slug = 'apparel' AND p.slug <> 'classic-t-shirt' ORDER BY p.id LIMIT 1"
    )
    .fetch_one(db)
    .await
    .expect("the seed has more apparel")
}

/// A listed product outside apparel.
async fn a_footwear_product(db: &PgPool) -> String {
    sqlx::query_scalar!(
        "SELECT p.slug FROM products p JOIN categories c ON c.id = p.category_id
          WHERE c.slug = 'footwear' ORDER BY p.id LIMIT 1"
    )
    .fetch_one(db)
    .await
    .expect("the seed has footwear")
}

#[sqlx::test(migrations = "../migrations")]
async fn robots_txt_names_the_sitemap_by_its_public_address(db: PgPool) {
    let app = spawn_with(db, SHOP).await;
    let res = app.get("/robots.txt").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("an ASCII header")
        .starts_with("text/plain"));
    let body = res.text().await.expect("a text body");
    assert!(body.contains("User-agent: *"));
    assert!(body.contains("Disallow: /search"));
    assert!(
        body.lines()
            .any(|l| l == "Sitemap: https://shop.example.com/sitemap.xml"),
        "{body}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_sitemap_lists_every_category_and_listed_product_with_lastmod(db: PgPool) {
    let app = spawn_with(db, SHOP).await;
    seed(&app.db, &app.media_dir, 3).await;
    sqlx::query!("UPDATE products SET active = false WHERE slug = 'classic-t-shirt'")
        .execute(&app.db)
        .await
        .expect("the statement runs");

    let res = app.get("/sitemap.xml").await;
    let status = res.status();
    let headers = res.headers().clone();
    let xml = res.text().await.expect("a text body");
    assert_eq!(status, 200, "{xml}");
    assert!(headers["content-type"]
        .to_str()
        .expect("an ASCII header")
        .starts_with("application/xml"));
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));
    assert!(xml.contains(r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#));
    let listed: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM products WHERE active AND min_price IS NOT NULL"#
    )
    .fetch_one(&app.db)
    .await
    .expect("the statement runs");
    let categories: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM categories"#)
        .fetch_one(&app.db)
        .await
        .expect("the statement runs");
    let other = another_apparel_product(&app.db).await;
    let shoes = a_footwear_product(&app.db).await;
    let other_url = format!("https://shop.example.com/products/{other}");
    let shoes_url = format!("https://shop.example.com/products/{shoes}");
    let apparel = "https://shop.example.com/categories/apparel";
    let locs = locs(&xml);
    assert_eq!(locs.len() as i64, listed + categories);
    assert!(locs.contains(&apparel.to_owned()));
    assert!(locs.contains(&other_url));
    assert!(
        !locs
            .iter()
            .any(|l| l.ends_with("/products/classic-t-shirt")),
        "archived products are not listed"
    );
    let stamp = lastmod(&xml, &other_url);
    assert_eq!(stamp.len(), "2026-12-04T01:02:03Z".len(), "{stamp}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        "{stamp}"
    );

    // A price change is a change of the product's page and of its category's, not others'.
    let before = (
        lastmod(&xml, &other_url),
        lastmod(&xml, apparel),
        lastmod(&xml, &shoes_url),
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    sqlx::query!(
        "UPDATE variants SET price_amount = price_amount + 100
          WHERE product_id = (SELECT id FROM products WHERE slug = $1)",
        other
    )
    .execute(&app.db)
    .await
    .expect("the statement runs");
    let xml = app
        .get("/sitemap.xml")
        .await
        .text()
        .await
        .expect("a text body");
    assert!(lastmod(&xml, &other_url) > before.0, "the product changed");
    assert!(lastmod(&xml, apparel) > before.1, "its category changed");
    assert_eq!(lastmod(&xml, &shoes_url), before.2, "others did not");
}

#[sqlx::test(migrations = "../migrations")]
async fn past_fifty_thousand_urls_the_sitemap_becomes_an_index_of_files(db: PgPool) {
    let app = spawn_with(db, SHOP).await;
    seed(&app.db, &app.media_dir, 1).await;
    // 50,000 more products, one variant each: the catalog now needs two files.
    sqlx::query!(
        "INSERT INTO products (slug, name, category_id)
         SELECT 'bulk-' || n, 'Bulk ' || n, (SELECT min(id) FROM categories)
           FROM generate_series(1, 50000) n"
    )
    .execute(&app.db)
    .await
    .expect("the statement runs");
    sqlx::query!(
        "INSERT INTO variants (product_id, sku, name, price_amount, stock)
         SELECT id, 'BULK-' || id, 'One size', 500, 1 FROM products WHERE slug LIKE 'bulk-%'"
    )
    .execute(&app.db)
    .await
    .expect("the statement runs");

    let index = app
        .get("/sitemap.xml")
        .await
        .text()
        .await
        .expect("a text body");
    assert!(index.contains("<sitemapindex"), "an index, not a urlset");
    assert_eq!(
        locs(&index),
        [
            "https://shop.example.com/sitemaps/1.xml",
            "https://shop.example.com/sitemaps/2.xml"
        ]
    );
    let first = app
        .get("/sitemaps/1.xml")
        .await
        .text()
        .await
        .expect("a text body");
    let second = app
        .get("/sitemaps/2.xml")
        .await
        .text()
        .await
        .expect("a text body");
    let (first, second) = (locs(&first), locs(&second));
    assert_eq!(first.len(), 50_000, "a full file");
    let total: i64 = sqlx::query_scalar!(
        r#"SELECT (SELECT count(*) FROM categories)
                + (SELECT count(*) FROM products WHERE active AND min_price IS NOT NULL) AS "n!""#
    )
    .fetch_one(&app.db)
    .await
    .expect("the statement runs");
    assert_eq!((first.len() + second.len()) as i64, total);
    assert!(first[0].contains("/categories/"), "categories come first");
    let mut all: Vec<_> = first.iter().chain(&second).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len() as i64, total, "no URL is in both files");

    assert_eq!(app.get("/sitemaps/3.xml").await.status(), 404);
    assert_eq!(app.get("/sitemaps/0.xml").await.status(), 404);
    assert_eq!(app.get("/sitemaps/one.xml").await.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn product_pages_carry_canonical_open_graph_and_product_json_ld(db: PgPool) {
    let app = spawn_with(db, SHOP).await;
    seed(&app.db, &app.media_dir, 3).await;
    sqlx::query!("UPDATE variants SET stock = 0 WHERE sku = 'CLASSIC-T-SHIRT-XL'")
        .execute(&app.db)
        .await
        .expect("the statement runs");
    let (status, html) = app
        .get_html("/products/classic-t-shirt?variant=CLASSIC-T-SHIRT-M")
        .await;
    assert_eq!(status, 200);
    let url = "https://shop.example.com/products/classic-t-shirt";
    assert!(
        html.contains(&format!(r#"<link href="{url}" rel="canonical">"#)),
        "the canonical link ignores the variant query"
    );
    assert!(html.contains(r#"<meta property="og:type" content="product">"#));
    assert!(html.contains(r#"<meta property="og:title" content="Classic T-Shirt">"#));
    assert!(html.contains(&format!(r#"<meta property="og:url" content="{url}">"#)));
    assert!(html.contains(r#"<meta property="og:image" content="https://shop.example.com/media/"#));

    let doc = json_ld(&html);
    assert_eq!(doc["@context"], "https://schema.org");
    assert_eq!(doc["@type"], "Product");
    assert_eq!(doc["name"], "Classic T-Shirt");
    assert_eq!(doc["url"], url);
    let variants = sqlx::query!(
        "SELECT sku, price_amount, stock FROM variants
          WHERE product_id = (SELECT id FROM products WHERE slug = 'classic-t-shirt')
          ORDER BY position, id"
    )
    .fetch_all(&app.db)
    .await
    .expect("the statement runs");
    let offers = doc["offers"].as_array().expect("offers");
    assert_eq!(offers.len(), variants.len());
    for (offer, v) in offers.iter().zip(&variants) {
        assert_eq!(offer["sku"], v.sku.as_str());
        assert_eq!(offer["priceCurrency"], "USD");
        let price = format!("{}.{:02}", v.price_amount / 100, v.price_amount % 100);
        assert_eq!(offer["price"], price.as_str());
        let availability = if v.stock > 0 { "InStock" } else { "OutOfStock" };
        assert_eq!(
            offer["availability"],
            format!("https://schema.org/{availability}")
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn merchant_text_cannot_break_out_of_the_product_json_ld(db: PgPool) {
    let app = spawn_with(db, SHOP).await;
    seed(&app.db, &app.media_dir, 3).await;
    let slug = another_apparel_product(&app.db).await;
    let name = r#"Mug</script><script>alert("x")</script>"#;
    sqlx::query!(
        "UPDATE products SET name = $1, description = 'Tea & </SCRIPT> coffee' WHERE slug = $2",
        name,
        slug
    )
    .execute(&app.db)
    .await
    .expect("the statement runs");
    let (status, html) = app.get_html(&format!("/products/{slug}")).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("<script>alert"),
        "no markup escapes the page's text"
    );
    let doc = json_ld(&html);
    assert_eq!(doc["name"], name, "the JSON-LD holds the name intact");
    assert_eq!(doc["description"], "Tea & </SCRIPT> coffee");
}

#[sqlx::test(migrations = "../migrations")]
async fn category_pages_are_canonical_per_page_whatever_the_sort(db: PgPool) {
    let app = spawn_with(db, SHOP).await;
    seed(&app.db, &app.media_dir, 3).await;
    let (status, html) = app.get_html("/categories/apparel?sort=name").await;
    assert_eq!(status, 200);
    let base = "https://shop.example.com/categories/apparel";
    assert!(html.contains(&format!(r#"<link href="{base}" rel="canonical">"#)));
    assert!(html.contains(r#"<meta property="og:title" content="Apparel">"#));
    assert!(html.contains(&format!(r#"<meta property="og:url" content="{base}">"#)));
    let (_, page2) = app
        .get_html("/categories/apparel?sort=price_asc&per_page=2&page=2")
        .await;
    assert!(
        page2.contains(&format!(
            r#"<link href="{base}?per_page=2&amp;page=2" rel="canonical">"#
        )),
        "a page of another size is another page"
    );
    let (_, default_size) = app.get_html("/categories/apparel?page=1&sort=name").await;
    assert!(default_size.contains(&format!(r#"<link href="{base}" rel="canonical">"#)));
}
