//! Server-rendered storefront pages: content, titles and HTTP status, with no JavaScript.

use crate::common::spawn_seeded;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn home_page_shows_categories_and_featured_products(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Bazaar</title>"), "title");
    assert!(html.contains(r#"name="description""#), "meta description");
    assert!(html.contains(r#"href="/categories/apparel""#));
    assert!(html.contains("Featured"));
    assert!(html.contains(r#"href="/products/classic-t-shirt""#));
    assert!(
        html.contains(r#"alt="Photo of Classic T-Shirt""#),
        "images have alt text"
    );
    assert!(html.contains("/pkg/bazaar"), "hydration scripts are linked");
}

#[sqlx::test(migrations = "../migrations")]
async fn category_page_lists_its_products_sorted_and_paginated(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, html) = app
        .get_html("/categories/apparel?sort=name&per_page=2")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Apparel · Bazaar</title>"));
    assert!(html.contains("Showing 1–2 of 3"));
    assert!(html.contains(r#"rel="next""#) && html.contains("page=2"));
    assert!(
        html.contains(r#"<option value="name" selected"#),
        "the sort menu reflects the sort"
    );
    let (status, page2) = app
        .get_html("/categories/apparel?sort=name&per_page=2&page=2")
        .await;
    assert_eq!(status, 200);
    assert!(page2.contains("Showing 3–3 of 3") && page2.contains(r#"rel="prev""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn category_page_with_bad_parameters_still_renders_with_a_notice(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, html) = app.get_html("/categories/apparel?page=0&sort=bogus").await;
    assert_eq!(status, 200);
    assert!(html.contains("were reset"), "notice shown");
    assert!(html.contains("Showing 1–3 of 3"));
}

#[sqlx::test(migrations = "../migrations")]
async fn product_page_shows_price_variants_and_stock(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, html) = app.get_html("/products/classic-t-shirt").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Classic T-Shirt · Bazaar</title>"));
    assert!(html.contains("<h1>Classic T-Shirt"));
    // The seed's sizes are a Size option: one labelled radio per value.
    assert!(
        html.contains(r#"name="option.Size" id="option-0-3" value="XL""#),
        "size choice"
    );
    assert!(
        html.contains(r#"<label for="option-0-0">S"#),
        "sizes are labelled"
    );
    assert!(html.contains('$'), "formatted price");
    assert!(html.contains("In stock") || html.contains("left") || html.contains("Out of stock"));
}

#[sqlx::test(migrations = "../migrations")]
async fn product_page_preselects_the_variant_from_the_query(db: PgPool) {
    let app = spawn_seeded(db).await;
    let price: i64 =
        sqlx::query_scalar!("SELECT price_amount FROM variants WHERE sku = 'CLASSIC-T-SHIRT-XL'")
            .fetch_one(&app.db)
            .await
            .expect("variant");
    sqlx::query!("UPDATE variants SET stock = 3 WHERE sku = 'CLASSIC-T-SHIRT-XL'")
        .execute(&app.db)
        .await
        .expect("stock");
    let (_, html) = app
        .get_html("/products/classic-t-shirt?variant=CLASSIC-T-SHIRT-XL")
        .await;
    let shown = types::Money::new(price, types::Currency::USD).to_string();
    assert!(html.contains(&shown), "XL price {shown} shown");
    assert!(html.contains("Only 3 left"));
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_product_category_and_path_render_404_pages(db: PgPool) {
    let app = spawn_seeded(db).await;
    for path in [
        "/products/no-such-thing",
        "/categories/no-such-category",
        "/categories/NOT%20A%20SLUG",
        "/no/such/page",
    ] {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            html.contains("couldn't find"),
            "{path} renders the 404 page"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn search_page_finds_products_and_handles_empty_and_odd_queries(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, html) = app.get_html("/search?q=mug").await;
    assert_eq!(status, 200);
    assert!(html.contains("Results for “mug”") && html.contains("/products/classic-mug"));
    let (status, html) = app.get_html("/search?q=zzzzqqqq").await;
    assert_eq!(status, 200);
    assert!(html.contains("No products match"));
    let (status, html) = app.get_html("/search").await;
    assert_eq!(status, 200);
    assert!(html.contains("All products"));
    let long = "x".repeat(500);
    let (status, _) = app.get_html(&format!("/search?q={long}&page=abc")).await;
    assert_eq!(status, 200, "bad input in the UI is a page, never a 500");
}

#[sqlx::test(migrations = "../migrations")]
async fn seeded_images_are_served_with_cache_headers(db: PgPool) {
    let app = spawn_seeded(db).await;
    let res = app.get("/media/products/classic-mug.svg").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=86400");
    assert!(res.text().await.expect("svg").starts_with("<svg"));
    assert_eq!(app.get("/media/../Cargo.toml").await.status().as_u16(), 404);
}

/// A product name and description that try to leave the text they are put in.
const HOSTILE_NAME: &str = r#"</title><script>alert(1)</script>"#;
const HOSTILE_DESCRIPTION: &str = r#""><meta http-equiv="refresh" content="0;url=https://evil.example"><script>alert(2)</script>"#;

/// The page's `<head>`, which must hold one title and none of the injected elements.
fn head_of(html: &str) -> &str {
    let start = html.find("<head>").expect("a head");
    let end = html.find("</head>").expect("the head ends");
    &html[start..end]
}

fn assert_inert(page: &str, html: &str) {
    let head = head_of(html);
    assert_eq!(
        head.matches("<title>").count(),
        1,
        "{page}: one title\n{head}"
    );
    assert_eq!(
        head.matches("</title>").count(),
        1,
        "{page}: the title is not closed early\n{head}"
    );
    assert!(
        !head.contains("http-equiv=\"refresh\" content=\"0"),
        "{page}: the description stays inside its attribute\n{head}"
    );
    for injected in ["<script>alert(1)", "<script>alert(2)", "<meta http-equiv"] {
        if let Some(at) = html.find(injected) {
            let around = &html[at.saturating_sub(300)..(at + 100).min(html.len())];
            panic!("{page}: `{injected}` reached the markup:\n{around}");
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn hostile_product_text_stays_text_in_the_head_and_body_of_every_page_showing_it(db: PgPool) {
    use crate::common::shop::{guest_checkout, Shopper};
    use serde_json::json;
    let app = crate::common::spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 1).await;
    let admin = app.admin("boss@example.com").await;
    let category: String =
        sqlx::query_scalar!("SELECT slug FROM categories ORDER BY position, id LIMIT 1")
            .fetch_one(&app.db)
            .await
            .expect("category");
    let (status, product) = app
        .call(
            "POST",
            "/api/admin/products",
            &admin,
            Some(json!({
                "name": HOSTILE_NAME, "slug": "hostile", "description": HOSTILE_DESCRIPTION,
                "category": category, "active": true,
                "variants": [{"sku": "HOSTILE-1", "name": HOSTILE_NAME, "price": {"amount": 500, "currency": "USD"}, "stock": 5}]
            })),
        )
        .await;
    assert_eq!(status, 201, "{product}");

    let (status, html) = app.get_html("/products/hostile").await;
    assert_eq!(status, 200);
    assert_inert("product", &html);
    assert!(
        head_of(&html).contains(
            "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; · Bazaar</title>"
        ),
        "the name is the title, as text:\n{}",
        head_of(&html)
    );
    for page in [
        format!("/categories/{category}"),
        "/search?q=alert".to_owned(),
        format!("/search?q={}", urlencode(HOSTILE_NAME)),
        "/".to_owned(),
    ] {
        let (status, html) = app.get_html(&page).await;
        assert_eq!(status, 200, "{page}");
        assert_inert(&page, &html);
    }

    let mut shopper = Shopper::new(&app);
    assert_eq!(shopper.add("HOSTILE-1", 1).await.0, 200);
    let cookie = shopper.cookie.clone().expect("a cart cookie");
    let html = app
        .get_with_cookie("/cart", &cookie)
        .await
        .text()
        .await
        .expect("cart");
    assert!(html.contains("&lt;/title&gt;"), "the cart shows the line");
    assert_inert("cart", &html);
    let (status, placed) = shopper.checkout("hostile-1", guest_checkout()).await;
    assert_eq!(status, 201, "{placed}");
    let order = placed["order_id"].as_str().expect("order id");
    let html = app
        .get_with_cookie(&format!("/orders/{order}"), &cookie)
        .await
        .text()
        .await
        .expect("order page");
    assert!(
        html.contains("&lt;/title&gt;"),
        "the order page shows the line"
    );
    assert_inert("order", &html);

    for page in ["/admin/products", "/admin/products/hostile"] {
        let html = app
            .get_with_cookie(page, &admin)
            .await
            .text()
            .await
            .expect(page);
        assert!(html.contains("&lt;/title&gt;"), "{page} shows the name");
        assert_inert(page, &html);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
