//! Server-rendered storefront pages: content, titles and HTTP status, with no JavaScript.

mod common;

use common::spawn_seeded;
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
    assert!(
        html.contains(r#"value="CLASSIC-T-SHIRT-XL""#),
        "variant choice"
    );
    assert!(
        html.contains(r#"for="variant-classic-t-shirt-s""#),
        "variants are labelled"
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
