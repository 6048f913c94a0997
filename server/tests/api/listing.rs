//! Listings that cost the same at any catalog size: the cheapest price kept on the product,
//! the per-category counters, a large seed, and search that ranks only what it matched.
//! Each expectation is checked against a plain aggregate over the variants, so a counter or
//! a kept price that drifts from the truth fails here.

use crate::common::{seed, slugs, spawn_with, TestApp};
use serde_json::json;
use sqlx::PgPool;

/// What the listings must say, computed the slow way from the rows themselves.
/// Each category's listed products, counted over its whole subtree straight from the rows.
async fn truth(db: &PgPool) -> Vec<(String, i64)> {
    sqlx::query!(
        r#"WITH RECURSIVE below AS (
               SELECT id AS top, id FROM categories
               UNION ALL
               SELECT b.top, c.id FROM categories c JOIN below b ON c.parent_id = b.id)
           SELECT c.slug, count(p.id) FILTER (WHERE p.active AND EXISTS
                    (SELECT 1 FROM variants v WHERE v.product_id = p.id)) AS "n!"
           FROM categories c JOIN below b ON b.top = c.id
           LEFT JOIN products p ON p.category_id = b.id
           GROUP BY c.slug ORDER BY c.slug"#
    )
    .fetch_all(db)
    .await
    .expect("truth")
    .into_iter()
    .map(|r| (r.slug, r.n))
    .collect()
}

async fn shown(app: &TestApp) -> Vec<(String, i64)> {
    let (status, body) = app.get_json("/api/catalog/categories").await;
    assert_eq!(status, 200);
    let mut out: Vec<(String, i64)> = body
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| {
            let slug = c["slug"].as_str().expect("slug").to_owned();
            (slug, c["product_count"].as_i64().expect("count"))
        })
        .collect();
    out.sort();
    out
}

async fn total(app: &TestApp, query: &str) -> i64 {
    let (status, body) = app
        .get_json(&format!("/api/catalog/products?{query}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_i64().expect("total")
}

#[sqlx::test(migrations = "../migrations")]
async fn counts_and_cheapest_prices_follow_every_catalog_write(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 3).await;
    let admin = app.admin("boss@example.com").await;
    assert_eq!(shown(&app).await, truth(&app.db).await);
    assert_eq!(total(&app, "").await, 30);

    // A new product lists at once, at its cheapest variant's price.
    let body = json!({
        "name": "Lantern", "description": "Light.", "category": "outdoor", "active": true,
        "variants": [
            {"sku": "LANTERN-S", "name": "Small", "price": {"amount": 300, "currency": "USD"}, "stock": 0},
            {"sku": "LANTERN-L", "name": "Large", "price": {"amount": 100, "currency": "USD"}, "stock": 4}
        ]
    });
    let (status, created) = app
        .call("POST", "/api/admin/products", &admin, Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(shown(&app).await, truth(&app.db).await);
    assert_eq!(total(&app, "category=outdoor").await, 4);
    let (_, cheapest) = app
        .get_json("/api/catalog/products?category=outdoor&sort=price_asc")
        .await;
    assert_eq!(slugs(&cheapest)[0], "lantern");
    assert_eq!(cheapest["items"][0]["price"]["amount"], 100);
    assert_eq!(cheapest["items"][0]["in_stock"], true);

    // Repricing the cheap variant moves the product to the other end of the sort.
    let (status, edited) = app
        .call(
            "PATCH",
            "/api/admin/products/lantern",
            &admin,
            Some(json!({"variants": [
                {"sku": "LANTERN-S", "name": "Small", "price": {"amount": 999_998, "currency": "USD"}},
                {"sku": "LANTERN-L", "name": "Large", "price": {"amount": 999_999, "currency": "USD"}}
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    let (_, dearest) = app
        .get_json("/api/catalog/products?category=outdoor&sort=price_desc")
        .await;
    assert_eq!(slugs(&dearest)[0], "lantern");
    assert_eq!(dearest["items"][0]["price"]["amount"], 999_998, "{dearest}");
    // Stock is read live: selling the last one shows it sold out at once.
    sqlx::query!("UPDATE variants SET stock = 0 WHERE sku = 'LANTERN-L'")
        .execute(&app.db)
        .await
        .expect("sell out");
    let (_, dearest) = app
        .get_json("/api/catalog/products?category=outdoor&sort=price_desc")
        .await;
    assert_eq!(dearest["items"][0]["in_stock"], false, "sold out now");

    // Moving it to another category moves its count; archiving it drops it.
    let (status, _) = app
        .call(
            "PATCH",
            "/api/admin/products/lantern",
            &admin,
            Some(json!({"category": "books"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown(&app).await, truth(&app.db).await);
    assert_eq!(total(&app, "category=books").await, 4);
    let (status, _) = app
        .call("DELETE", "/api/admin/products/lantern", &admin, None)
        .await;
    assert!(status < 300, "archived: {status}");
    assert_eq!(shown(&app).await, truth(&app.db).await);
    assert_eq!(total(&app, "").await, 30);

    // A product whose variants all go is not listed, however it lost them.
    sqlx::query!("DELETE FROM variants WHERE sku LIKE 'CLASSIC-MUG-%'")
        .execute(&app.db)
        .await
        .expect("delete");
    assert_eq!(shown(&app).await, truth(&app.db).await);
    assert_eq!(total(&app, "").await, 29);
    let (_, featured) = app
        .get_json("/api/catalog/products?category=home-kitchen")
        .await;
    assert!(!slugs(&featured).contains(&"classic-mug".to_owned()));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_large_seed_adds_models_of_each_line_sharing_its_picture_and_can_run_again(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 150).await;
    assert_eq!(total(&app, "").await, 1_500);
    assert_eq!(total(&app, "category=outdoor").await, 150);
    assert_eq!(shown(&app).await, truth(&app.db).await);
    // 72 lines per category, each drawn once whole and once close up, whatever the
    // number of models.
    let pictures = std::fs::read_dir(app.media_dir.join("products"))
        .expect("pictures")
        .count();
    assert_eq!(pictures, 2 * 720);
    let (status, model) = app
        .get_json("/api/catalog/products/alpine-water-bottle-lite-1")
        .await;
    assert_eq!(status, 200, "{model}");
    let (_, line) = app
        .get_json("/api/catalog/products/alpine-water-bottle")
        .await;
    assert_eq!(
        model["image_url"], line["image_url"],
        "one picture per line"
    );

    // Every page of every sort agrees with a sort of the variants themselves.
    for (sort, order) in [
        (
            "price_asc",
            "min(v.price_amount) ASC, p.created_at DESC, p.id DESC",
        ),
        (
            "price_desc",
            "min(v.price_amount) DESC, p.created_at DESC, p.id DESC",
        ),
        ("name", "lower(p.name) ASC, p.created_at DESC, p.id DESC"),
        ("newest", "p.created_at DESC, p.id DESC"),
    ] {
        let expected: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT p.slug FROM products p JOIN categories c ON c.id = p.category_id
               JOIN variants v ON v.product_id = p.id
              WHERE p.active AND c.slug = 'footwear'
              GROUP BY p.id ORDER BY {order} LIMIT 24 OFFSET 48"
        ))
        .fetch_all(&app.db)
        .await
        .expect("expected order");
        let (_, page) = app
            .get_json(&format!(
                "/api/catalog/products?category=footwear&sort={sort}&page=3"
            ))
            .await;
        assert_eq!(slugs(&page), expected, "sort={sort}");
    }

    // Seeding again changes nothing that a shopper can count.
    seed(&app.db, &app.media_dir, 150).await;
    assert_eq!(total(&app, "").await, 1_500);
    assert_eq!(shown(&app).await, truth(&app.db).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn search_prefers_the_words_and_falls_back_to_typos_only_when_they_find_nothing(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 100).await;
    // Words: every result holds them, and the count is of exactly those.
    let (_, tents) = app.get_json("/api/catalog/products?q=alpine+tent").await;
    let exact: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM products
            WHERE search @@ websearch_to_tsquery('english', 'alpine tent')"#
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(tents["total"].as_i64(), Some(exact));
    assert!(exact > 0);
    assert!(
        slugs(&tents).iter().all(|s| s.contains("alpine-tent")),
        "{tents}"
    );
    // A typo, swapped letters included, is corrected to the catalog's word and finds
    // exactly what the right words find, not every name that looks a little alike.
    let (_, typo) = app.get_json("/api/catalog/products?q=alpine+tnet").await;
    assert_eq!(typo["total"].as_i64(), Some(exact), "{typo}");
    assert_eq!(slugs(&typo), slugs(&tents));
    let (_, typo) = app.get_json("/api/catalog/products?q=alpnie+tetn").await;
    assert_eq!(typo["total"].as_i64(), Some(exact), "{typo}");
    // Past the last page the total is still the count of matches.
    let (status, past) = app
        .get_json("/api/catalog/products?q=alpine+tent&page=50")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            past["items"].as_array().map(Vec::len),
            past["total"].as_i64()
        ),
        (Some(0), Some(exact))
    );
}

/// The typo vocabulary, the slow way: every word of every product's name and description.
async fn vocabulary(db: &PgPool) -> (Vec<(String, i64)>, Vec<(String, i64)>) {
    let kept = sqlx::query!(r#"SELECT word, uses FROM search_lexicon ORDER BY word"#)
        .fetch_all(db)
        .await
        .expect("lexicon")
        .into_iter()
        .map(|r| (r.word, r.uses))
        .collect();
    let truth = sqlx::query!(
        r#"SELECT w AS "word!", count(*) AS "uses!"
             FROM products, unnest(search_words(name, description)) AS w
            GROUP BY w ORDER BY w"#
    )
    .fetch_all(db)
    .await
    .expect("truth")
    .into_iter()
    .map(|r| (r.word, r.uses))
    .collect();
    (kept, truth)
}

#[sqlx::test(migrations = "../migrations")]
async fn typo_vocabulary_follows_every_write_so_a_renamed_product_is_found_by_its_new_name(
    db: PgPool,
) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 3).await;
    let admin = app.admin("boss@example.com").await;
    let (kept, truth) = vocabulary(&app.db).await;
    assert!(!kept.is_empty());
    assert_eq!(kept, truth);

    let body = json!({
        "name": "Obsidian Lantern", "description": "Warm light.", "category": "outdoor",
        "active": true,
        "variants": [{"sku": "LANTERN-1", "name": "One", "price": {"amount": 900, "currency": "USD"}, "stock": 3}]
    });
    let (status, created) = app
        .call("POST", "/api/admin/products", &admin, Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    let (_, found) = app
        .get_json("/api/catalog/products?q=obsidain+lantren")
        .await;
    assert_eq!(slugs(&found), ["obsidian-lantern"], "{found}");

    // Renamed, the old word leaves the vocabulary and the new one corrects typos.
    let (status, edited) = app
        .call(
            "PATCH",
            "/api/admin/products/obsidian-lantern",
            &admin,
            Some(json!({"name": "Copper Lantern"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    let (kept, truth) = vocabulary(&app.db).await;
    assert_eq!(kept, truth);
    assert!(!kept.iter().any(|(w, _)| w == "obsidian"), "{kept:?}");
    let (_, found) = app.get_json("/api/catalog/products?q=coppre+lantern").await;
    assert_eq!(slugs(&found), ["obsidian-lantern"], "{found}");

    // A price refresh writes the product row without touching a word; deleting rows does.
    sqlx::query!("UPDATE variants SET price_amount = price_amount + 1")
        .execute(&app.db)
        .await
        .expect("reprice");
    sqlx::query!("DELETE FROM variants WHERE product_id IN (SELECT id FROM products WHERE slug LIKE 'classic-%')")
        .execute(&app.db)
        .await
        .expect("delete variants");
    sqlx::query!("DELETE FROM products WHERE slug LIKE 'classic-%'")
        .execute(&app.db)
        .await
        .expect("delete products");
    let (kept, truth) = vocabulary(&app.db).await;
    assert_eq!(kept, truth);
}
