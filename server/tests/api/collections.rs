//! Collections: the merchant curates ordered product lists through the admin API, and
//! shoppers get them from the catalog API and as their own pages.

use crate::common::{seed, slugs, spawn_with, TestApp};
use serde_json::json;
use sqlx::PgPool;

async fn app(db: PgPool) -> (TestApp, String) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 3).await;
    let admin = app.admin("boss@example.com").await;
    (app, admin)
}

/// Three listed product slugs, oldest first.
async fn three_products(db: &PgPool) -> Vec<String> {
    sqlx::query_scalar!("SELECT slug FROM products WHERE active ORDER BY id LIMIT 3")
        .fetch_all(db)
        .await
        .expect("seeded products")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_merchant_curates_a_collection_that_shoppers_see_in_that_order(db: PgPool) {
    let (app, admin) = app(db).await;
    let p = three_products(&app.db).await;
    let (status, created) = app
        .call(
            "POST",
            "/api/admin/collections",
            &admin,
            Some(
                json!({"name": "Summer Picks", "description": "Light things.",
                        "products": [p[2], p[0], p[1]]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["slug"], "summer-picks", "made from the name");
    assert_eq!(created["products"], json!([p[2], p[0], p[1]]));

    let (status, list) = app.get_json("/api/catalog/collections").await;
    assert_eq!(status, 200);
    assert_eq!(
        list,
        json!([{"slug": "summer-picks", "name": "Summer Picks", "product_count": 3}])
    );
    let (status, page) = app.get_json("/api/catalog/collections/summer-picks").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        slugs(&page),
        [p[2].clone(), p[0].clone(), p[1].clone()],
        "the merchant's order"
    );
    assert_eq!(page["total"], 3);
    let (_, second) = app
        .get_json("/api/catalog/collections/summer-picks?per_page=2&page=2")
        .await;
    assert_eq!(slugs(&second), [p[1].clone()]);

    // Reordering replaces the list; an archived member leaves the storefront only.
    let (status, edited) = app
        .call(
            "PATCH",
            "/api/admin/collections/summer-picks",
            &admin,
            Some(json!({"products": [p[1], p[2]], "name": "Summer"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["products"], json!([p[1], p[2]]));
    assert_eq!(edited["name"], "Summer");
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/admin/products/{}", p[1]),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, page) = app.get_json("/api/catalog/collections/summer-picks").await;
    assert_eq!(slugs(&page), [p[2].clone()]);
    let (_, admin_view) = app
        .call("GET", "/api/admin/collections/summer-picks", &admin, None)
        .await;
    assert_eq!(
        admin_view["products"],
        json!([p[1], p[2]]),
        "the admin still sees it"
    );

    let (status, _) = app
        .call(
            "DELETE",
            "/api/admin/collections/summer-picks",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get_json("/api/catalog/collections/summer-picks").await;
    assert_eq!(status, 404);
    let products: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM products"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(products, 30, "deleting a collection keeps its products");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_collections_get_clear_errors_and_change_nothing(db: PgPool) {
    let (app, admin) = app(db).await;
    let p = three_products(&app.db).await;
    let (status, _) = app
        .call(
            "POST",
            "/api/admin/collections",
            &admin,
            Some(json!({"name": "Picks", "slug": "picks", "products": [p[0]]})),
        )
        .await;
    assert_eq!(status, 201);

    let (status, body) = app
        .call(
            "POST",
            "/api/admin/collections",
            &admin,
            Some(json!({"name": "Other", "slug": "picks"})),
        )
        .await;
    assert_eq!(status, 409, "a taken slug: {body}");
    assert_eq!(body["error"]["code"], "conflict");

    let (status, body) = app
        .call(
            "POST",
            "/api/admin/collections",
            &admin,
            Some(json!({"name": "", "products": [p[0], "Bad Slug", p[0]]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields = &body["error"]["fields"];
    assert!(
        fields["name"].is_array() || fields["name"].is_string(),
        "{body}"
    );
    assert!(
        !fields["products[1]"].is_null() && !fields["products[2]"].is_null(),
        "{body}"
    );

    // An unknown product is named, and the list it came in is not half-written.
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/collections/picks",
            &admin,
            Some(json!({"name": "Renamed", "products": [p[1], "no-such-product"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(!body["error"]["fields"]["products[1]"].is_null(), "{body}");
    let (_, kept) = app
        .call("GET", "/api/admin/collections/picks", &admin, None)
        .await;
    assert_eq!(kept["name"], "Picks");
    assert_eq!(kept["products"], json!([p[0]]));

    let (status, _) = app
        .call(
            "PATCH",
            "/api/admin/collections/nope",
            &admin,
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call("DELETE", "/api/admin/collections/nope", &admin, None)
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .get_json("/api/catalog/collections/picks?page=zero")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "validation");
}

#[sqlx::test(migrations = "../migrations")]
async fn shoppers_cannot_manage_collections(db: PgPool) {
    let (app, _) = app(db).await;
    let (status, _) = app.call("GET", "/api/admin/collections", "", None).await;
    assert_eq!(status, 401);
    app.signup("shopper@example.com", crate::common::PASSWORD)
        .await;
    let shopper = app
        .login("shopper@example.com", crate::common::PASSWORD)
        .await;
    let (status, _) = app
        .call(
            "POST",
            "/api/admin/collections",
            &shopper,
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_collection_has_its_own_page_linked_from_home(db: PgPool) {
    let (app, admin) = app(db).await;
    let p = three_products(&app.db).await;
    let (status, _) = app
        .call(
            "POST",
            "/api/admin/collections",
            &admin,
            Some(
                json!({"name": "Gift Ideas", "description": "For someone <special>.",
                        "products": [p[1], p[0]]}),
            ),
        )
        .await;
    assert_eq!(status, 201);
    let (_, home) = app.get_html("/").await;
    assert!(
        home.contains(r#"href="/collections/gift-ideas""#),
        "home links it"
    );

    let (status, html) = app.get_html("/collections/gift-ideas").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Gift Ideas · Bazaar</title>"));
    assert!(html.contains("<h1>Gift Ideas"));
    assert!(
        html.contains("For someone &lt;special&gt;."),
        "escaped description"
    );
    let first = html
        .find(&format!(r#"href="/products/{}""#, p[1]))
        .expect("first product");
    let second = html
        .find(&format!(r#"href="/products/{}""#, p[0]))
        .expect("second product");
    assert!(first < second, "the merchant's order");
    assert!(html.contains(r#"rel="canonical""#));

    let (status, _) = app.get_html("/collections/no-such-thing").await;
    assert_eq!(status, 404);

    let (_, sitemap) = app.get_html("/sitemap.xml").await;
    assert!(
        sitemap.contains("/collections/gift-ideas</loc><lastmod>"),
        "the sitemap lists it"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_pages_create_and_edit_a_collection_without_javascript(db: PgPool) {
    let (app, admin) = app(db).await;
    let p = three_products(&app.db).await;
    let (status, page) = app
        .get_with_cookie("/admin/collections", &admin)
        .await
        .text()
        .await
        .map(|t| (200, t))
        .expect("page");
    assert_eq!(status, 200);
    assert!(page.contains("No collections yet."));

    let lines = format!("{}\n{}", p[1], p[0]);
    let res = app
        .post_form(
            "/rpc/admin/collections/save",
            &admin,
            &[
                ("original_slug", ""),
                ("name", "Staff Picks"),
                ("slug", ""),
                ("description", "What we use."),
                ("products", &lines),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/admin/collections/staff-picks?saved=1"
    );
    let form = app
        .get_with_cookie("/admin/collections/staff-picks?saved=1", &admin)
        .await
        .text()
        .await
        .expect("page");
    assert!(form.contains("Saved."));
    assert!(
        form.contains(&format!("{}\n{}", p[1], p[0])),
        "the list in order"
    );

    // A line naming no product sends the form back with the error and saves nothing.
    let bad = format!("{}\nno-such-product", p[2]);
    let res = app
        .post_form(
            "/rpc/admin/collections/save",
            &admin,
            &[
                ("original_slug", "staff-picks"),
                ("name", "Staff Picks"),
                ("slug", "staff-picks"),
                ("description", ""),
                ("products", &bad),
            ],
        )
        .await;
    assert_eq!(res.status(), 302, "back to the form");
    let (_, kept) = app
        .call("GET", "/api/admin/collections/staff-picks", &admin, None)
        .await;
    assert_eq!(kept["products"], json!([p[1], p[0]]));
    assert_eq!(kept["description"], "What we use.");

    let res = app
        .post_form(
            "/rpc/admin/collections/delete",
            &admin,
            &[("slug", "staff-picks")],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/admin/collections?deleted=1");
    let list = app
        .get_with_cookie("/admin/collections?deleted=1", &admin)
        .await
        .text()
        .await
        .expect("page");
    assert!(list.contains("Collection deleted.") && list.contains("No collections yet."));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_collection_shows_on_every_replica_despite_the_cache(db: PgPool) {
    // A long TTL: only the invalidation channel can make the replicas agree in time.
    let env = [("CATALOG_CACHE_TTL_SECS", "300"), ("OUTBOX_WORKER", "off")];
    let prefix = format!("test:{}:", uuid::Uuid::new_v4());
    let a = crate::common::spawn_sharing(db.clone(), &env, &prefix).await;
    seed(&db, &a.media_dir, 3).await;
    let b = crate::common::spawn_sharing(db.clone(), &env, &prefix).await;
    let (_, before) = b.get_json("/api/catalog/collections").await;
    assert_eq!(before, json!([]), "cached empty");
    let p = three_products(&db).await;
    let admin = a.admin("boss@example.com").await;
    let (status, _) = a
        .call(
            "POST",
            "/api/admin/collections",
            &admin,
            Some(json!({"name": "Fresh", "products": [p[0]]})),
        )
        .await;
    assert_eq!(status, 201);
    let started = std::time::Instant::now();
    loop {
        let (_, list) = b.get_json("/api/catalog/collections").await;
        if list == json!([{"slug": "fresh", "name": "Fresh", "product_count": 1}]) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "the other replica still shows {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
