//! The catalog JSON API of the contract, against real Postgres and Redis.

use crate::common::{slugs, spawn_seeded};
use serde_json::Value;
use sqlx::PgPool;

fn prices(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["price"]["amount"].as_i64().expect("amount"))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn categories_are_listed_with_their_product_counts(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, body) = app.get_json("/api/catalog/categories").await;
    assert_eq!(status, 200);
    let cats = body.as_array().expect("array");
    let top = cats.iter().filter(|c| c["parent"].is_null()).count();
    assert_eq!(
        (top, cats.len()),
        (10, 14),
        "ten departments, four below them"
    );
    let apparel = cats
        .iter()
        .find(|c| c["slug"] == "apparel")
        .expect("apparel listed");
    assert_eq!(apparel["name"], "Apparel");
    assert_eq!(apparel["product_count"], 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn products_default_to_newest_first_with_24_per_page(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, body) = app.get_json("/api/catalog/products").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["page"].as_i64(),
            body["per_page"].as_i64(),
            body["total"].as_i64()
        ),
        (Some(1), Some(24), Some(30))
    );
    assert_eq!(body["items"].as_array().expect("items").len(), 24);
    // The seed makes the first apparel product the newest.
    assert_eq!(slugs(&body)[0], "classic-t-shirt");
    let first = &body["items"][0];
    for key in ["slug", "name", "price", "image_url", "in_stock", "category"] {
        assert!(first.get(key).is_some(), "summary lacks {key}");
    }
    assert_eq!(first["price"]["currency"], "USD");
    assert!(
        first["price"]["amount"].is_i64(),
        "money is integer minor units"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn products_filter_by_category(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, body) = app.get_json("/api/catalog/products?category=books").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 3);
    assert!(body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|p| p["category"] == "books"));
    let (_, none) = app
        .get_json("/api/catalog/products?category=no-such-category")
        .await;
    assert_eq!(none["total"], 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn products_sort_by_price_and_name(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (_, asc) = app
        .get_json("/api/catalog/products?sort=price_asc&per_page=100")
        .await;
    let p = prices(&asc);
    assert_eq!(p.len(), 30);
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "ascending: {p:?}");
    let (_, desc) = app
        .get_json("/api/catalog/products?sort=price_desc&per_page=100")
        .await;
    let p = prices(&desc);
    assert!(p.windows(2).all(|w| w[0] >= w[1]), "descending: {p:?}");
    let (_, by_name) = app
        .get_json("/api/catalog/products?sort=name&per_page=100")
        .await;
    let names: Vec<String> = by_name["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_do_not_overlap_and_cover_everything(db: PgPool) {
    let app = spawn_seeded(db).await;
    let mut seen = Vec::new();
    for page in 1..=4 {
        let (status, body) = app
            .get_json(&format!(
                "/api/catalog/products?per_page=8&page={page}&sort=name"
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["total"], 30);
        seen.extend(slugs(&body));
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (30, 30));
    let (status, past_end) = app
        .get_json("/api/catalog/products?per_page=8&page=9")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            past_end["items"].as_array().expect("items").len(),
            past_end["total"].as_i64()
        ),
        (0, Some(30))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn search_ranks_full_text_matches_and_tolerates_typos(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, body) = app.get_json("/api/catalog/products?q=headphones").await;
    assert_eq!(status, 200);
    let found = slugs(&body);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|s| s.contains("headphones")),
        "only headphones: {found:?}"
    );
    let (_, typo) = app.get_json("/api/catalog/products?q=headphnes").await;
    assert!(
        slugs(&typo).iter().any(|s| s.contains("headphones")),
        "typo tolerated: {typo}"
    );
    let (_, nothing) = app.get_json("/api/catalog/products?q=zzzzqqqq").await;
    assert_eq!(nothing["total"], 0);
    // Compounds match however they are split: "T-Shirt" for tshirt, t shirt and t-shirt.
    for q in ["tshirt", "t+shirt", "t-shirt", "TShirt"] {
        let (_, found) = app.get_json(&format!("/api/catalog/products?q={q}")).await;
        assert!(
            slugs(&found).iter().any(|s| s.ends_with("t-shirt")),
            "q={q} finds the T-shirts: {found}"
        );
    }
    // Search combines with a category filter.
    let (_, scoped) = app
        .get_json("/api/catalog/products?q=classic&category=books")
        .await;
    assert!(slugs(&scoped).iter().all(|s| s.starts_with("classic")));
    assert!(scoped["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|p| p["category"] == "books"));
}

#[sqlx::test(migrations = "../migrations")]
async fn product_detail_has_description_and_variants(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, body) = app.get_json("/api/catalog/products/classic-t-shirt").await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "Classic T-Shirt");
    assert!(body["description"]
        .as_str()
        .expect("description")
        .contains("Classic T-Shirt"));
    let variants = body["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 4, "apparel comes in S, M, L, XL");
    assert_eq!(variants[0]["sku"], "CLASSIC-T-SHIRT-S");
    assert!(variants
        .iter()
        .all(|v| v["available"].is_i64() && v["price"]["amount"].is_i64()));
    let cheapest = variants
        .iter()
        .map(|v| v["price"]["amount"].as_i64().expect("amount"))
        .min();
    assert_eq!(body["price"]["amount"].as_i64(), cheapest);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_and_archived_products_are_404_with_the_error_shape(db: PgPool) {
    let app = spawn_seeded(db).await;
    for slug in [
        "no-such-product",
        "UPPER",
        "..%2F..%2Fetc%2Fpasswd",
        "a%00b",
    ] {
        let (status, body) = app.get_json(&format!("/api/catalog/products/{slug}")).await;
        assert_eq!(status, 404, "{slug}");
        assert_eq!(body["error"]["code"], "not_found");
        assert!(body["error"]["message"].is_string());
    }
    sqlx::query!("UPDATE products SET active = false WHERE slug = 'classic-t-shirt'")
        .execute(&app.db)
        .await
        .expect("archive");
    let (status, _) = app.get_json("/api/catalog/products/classic-t-shirt").await;
    assert_eq!(status, 404);
    let (_, list) = app.get_json("/api/catalog/products?per_page=100").await;
    assert!(
        !slugs(&list).contains(&"classic-t-shirt".to_owned()),
        "archived products leave listings"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn each_bad_parameter_is_a_400_validation_error_naming_the_field(db: PgPool) {
    let app = spawn_seeded(db).await;
    let long_q = "x".repeat(201);
    let cases = [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=-3", "page"),
        ("page=99999999999999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=1000", "per_page"),
        ("sort=cheapest", "sort"),
        ("sort=price_asc;DROP%20TABLE%20products", "sort"),
        (&format!("q={long_q}") as &str, "q"),
        ("category=Bad%20Slug", "category"),
    ];
    for (query, field) in cases {
        let (status, body) = app
            .get_json(&format!("/api/catalog/products?{query}"))
            .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["code"], "validation", "{query}");
        assert!(
            body["error"]["fields"][field].is_array(),
            "{query} should name {field}: {body}"
        );
    }
    // The products table survived the injection attempt.
    let (status, _) = app.get_json("/api/catalog/products").await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn hostile_search_text_never_causes_a_server_error(db: PgPool) {
    let app = spawn_seeded(db).await;
    for q in [
        "'%20OR%201=1--",
        "%22%22%22",
        "!!!",
        "%F0%9F%A7%A6%20socks",
        "a%26b%7Cc",
        "%E2%80%AE",
        "%25%25",
        "-",
        "or",
    ] {
        let res = app.get(&format!("/api/catalog/products?q={q}")).await;
        assert_eq!(res.status().as_u16(), 200, "q={q}");
    }
    let res = app.get("/api/catalog/products?q=%01").await;
    assert_eq!(res.status().as_u16(), 400, "control characters are refused");
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_api_paths_and_methods_get_json_errors(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, body) = app.get_json("/api/nope").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let res = app
        .client
        .post(app.url("/api/catalog/categories"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 405);
    let body: Value = res.json().await.expect("json body for 405");
    assert_eq!(body["error"]["code"], "bad_request");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_is_derived_from_the_routes_and_documents_every_answer(db: PgPool) {
    let app = spawn_seeded(db).await;
    let (status, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let paths = doc["paths"].as_object().expect("paths");
    // The probes and metrics are in it, as the contract says, beside the API.
    for path in ["/health", "/ready", "/metrics", "/api/checkout"] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "no-such-thing"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in item.as_object().expect("path item") {
            if !["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let id = op["operationId"].as_str().unwrap_or(path);
            let responses = op["responses"].as_object().expect("responses");
            for (code, response) in responses {
                let content = &response["content"];
                if code == "204" {
                    assert!(content.is_null(), "{id}: a 204 has no body");
                } else if code.starts_with('4') || code.starts_with('5') {
                    let schema = &content["application/json"]["schema"];
                    assert!(
                        schema["$ref"] == "#/components/schemas/ErrorBody" || path == "/ready",
                        "{id} {code} answers the error body: {response}"
                    );
                }
            }
            // Every documented operation is routed: neither the API's fallback nor 405.
            let res = app
                .client
                .request(
                    method.to_uppercase().parse().expect("method"),
                    app.url(&concrete),
                )
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            assert_ne!(res.status(), 405, "{method} {path} is not routed");
            let body = res.text().await.unwrap_or_default();
            assert!(
                !body.contains("no such API endpoint"),
                "{method} {path} is documented but not routed"
            );
        }
    }
    assert!(operations >= 30, "only {operations} operations documented");
}

#[sqlx::test(migrations = "../migrations")]
async fn api_responses_are_compressed_when_the_client_accepts_it(db: PgPool) {
    let app = spawn_seeded(db).await;
    for (accept, expect) in [("br", "br"), ("gzip", "gzip")] {
        let res = app
            .client
            .get(app.url("/api/catalog/products?per_page=100"))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(expect)
        );
    }
}
