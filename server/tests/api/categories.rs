//! Nested categories: the merchant builds the tree through the admin API; listings by a
//! category include everything below it, and pages show the whole breadcrumb chain.

use crate::common::{seed, slugs, spawn_with, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn app(db: PgPool) -> (TestApp, String) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 3).await;
    let admin = app.admin("boss@example.com").await;
    (app, admin)
}

fn product_in(category: &str, name: &str, sku: &str) -> Value {
    json!({
        "name": name, "description": "Nested.", "category": category, "active": true,
        "variants": [{"sku": sku, "name": "One", "price": {"amount": 2500, "currency": "USD"}, "stock": 4}]
    })
}

fn category<'a>(list: &'a Value, slug: &str) -> &'a Value {
    list.as_array()
        .expect("array")
        .iter()
        .find(|c| c["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is listed: {list}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn a_listing_by_category_includes_every_category_below_it(db: PgPool) {
    let (app, admin) = app(db).await;
    let (status, shirts) = app
        .call(
            "POST",
            "/api/admin/categories",
            &admin,
            Some(json!({"name": "Shirts", "parent": "apparel", "description": "Tops."})),
        )
        .await;
    assert_eq!(status, 201, "{shirts}");
    assert_eq!(shirts["slug"], "shirts");
    assert_eq!(shirts["parent"], "apparel");
    let (status, tees) = app
        .call(
            "POST",
            "/api/admin/categories",
            &admin,
            Some(json!({"name": "Tees", "slug": "tees", "parent": "shirts"})),
        )
        .await;
    assert_eq!(status, 201, "{tees}");
    let (status, made) = app
        .call(
            "POST",
            "/api/admin/products",
            &admin,
            Some(product_in("tees", "Deep Tee", "DEEP-TEE")),
        )
        .await;
    assert_eq!(status, 201, "{made}");

    let (_, list) = app.get_json("/api/catalog/categories").await;
    assert_eq!(category(&list, "tees")["parent"], "shirts");
    assert_eq!(category(&list, "shirts")["parent"], "apparel");
    assert_eq!(category(&list, "apparel")["parent"], Value::Null);
    assert_eq!(category(&list, "shirts")["product_count"], 1);
    assert_eq!(
        category(&list, "apparel")["product_count"],
        4,
        "3 of its own and 1 below"
    );

    let (_, apparel) = app
        .get_json("/api/catalog/products?category=apparel&per_page=100")
        .await;
    assert_eq!(apparel["total"], 4);
    assert!(slugs(&apparel).contains(&"deep-tee".to_owned()));
    let (_, shirts_page) = app.get_json("/api/catalog/products?category=shirts").await;
    assert_eq!(slugs(&shirts_page), ["deep-tee"]);
    let (_, search) = app
        .get_json("/api/catalog/products?q=deep&category=apparel")
        .await;
    assert_eq!(slugs(&search), ["deep-tee"], "search within a category too");

    // Home shows the top of the tree; each category page leads one level down.
    let (_, home) = app.get_html("/").await;
    assert!(home.contains(r#"href="/categories/apparel""#));
    assert!(
        !home.contains(r#"href="/categories/shirts""#),
        "children are not on home"
    );
    let (_, apparel_page) = app.get_html("/categories/apparel").await;
    let below = &apparel_page[apparel_page
        .find(r#"aria-label="Subcategories""#)
        .expect("a subcategory list")..];
    assert!(below.contains(r#"href="/categories/shirts""#));
    assert!(!below[..below.find("</nav>").expect("closed")].contains("/categories/tees"));

    // The pages show the whole chain.
    let (status, html) = app.get_html("/categories/tees").await;
    assert_eq!(status, 200);
    let crumbs = &html[html
        .find(r#"aria-label="Breadcrumb""#)
        .expect("breadcrumbs")..];
    let at = |needle: &str| crumbs.find(needle).unwrap_or_else(|| panic!("{needle}"));
    assert!(at(r#"href="/categories/apparel""#) < at(r#"href="/categories/shirts""#));
    assert!(at(r#"href="/categories/shirts""#) < at(r#"aria-current="page">Tees"#));
    let (_, product) = app.get_html("/products/deep-tee").await;
    let crumbs = &product[product
        .find(r#"aria-label="Breadcrumb""#)
        .expect("breadcrumbs")..];
    let apparel_at = crumbs
        .find(r#"href="/categories/apparel""#)
        .expect("apparel");
    let shirts_at = crumbs.find(r#"href="/categories/shirts""#).expect("shirts");
    let tees_at = crumbs.find(r#"href="/categories/tees""#).expect("tees");
    assert!(apparel_at < shirts_at && shirts_at < tees_at);

    // Moving a branch to the top takes its products with it.
    let (status, moved) = app
        .call(
            "PATCH",
            "/api/admin/categories/shirts",
            &admin,
            Some(json!({"parent": null, "position": 3})),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["parent"], Value::Null);
    assert_eq!(moved["position"], 3);
    let (_, apparel) = app.get_json("/api/catalog/products?category=apparel").await;
    assert_eq!(apparel["total"], 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_tree_refuses_cycles_duplicates_and_non_empty_deletes(db: PgPool) {
    let (app, admin) = app(db).await;
    for body in [
        json!({"name": "Shirts", "parent": "apparel"}),
        json!({"name": "Tees", "parent": "shirts"}),
    ] {
        let (status, b) = app
            .call("POST", "/api/admin/categories", &admin, Some(body))
            .await;
        assert_eq!(status, 201, "{b}");
    }
    let expect = |status: u16, code: &str, body: &Value, want: u16| {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
    };

    let (s, b) = app
        .call(
            "PATCH",
            "/api/admin/categories/apparel",
            &admin,
            Some(json!({"parent": "tees"})),
        )
        .await;
    expect(s, "conflict", &b, 409);
    let (s, b) = app
        .call(
            "PATCH",
            "/api/admin/categories/shirts",
            &admin,
            Some(json!({"parent": "shirts"})),
        )
        .await;
    expect(s, "conflict", &b, 409);
    let (_, list) = app.get_json("/api/catalog/categories").await;
    assert_eq!(
        category(&list, "apparel")["parent"],
        Value::Null,
        "nothing moved"
    );

    let (s, b) = app
        .call(
            "POST",
            "/api/admin/categories",
            &admin,
            Some(json!({"name": "Shirts"})),
        )
        .await;
    expect(s, "conflict", &b, 409);
    let (s, b) = app
        .call(
            "PATCH",
            "/api/admin/categories/tees",
            &admin,
            Some(json!({"slug": "shirts"})),
        )
        .await;
    expect(s, "conflict", &b, 409);

    let (s, b) = app
        .call("DELETE", "/api/admin/categories/apparel", &admin, None)
        .await;
    expect(s, "conflict", &b, 409);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("products"));
    let (s, b) = app
        .call("DELETE", "/api/admin/categories/shirts", &admin, None)
        .await;
    expect(s, "conflict", &b, 409);
    let (s, _) = app
        .call("DELETE", "/api/admin/categories/tees", &admin, None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call("DELETE", "/api/admin/categories/shirts", &admin, None)
        .await;
    assert_eq!(s, 204, "empty now");

    let (s, b) = app
        .call(
            "POST",
            "/api/admin/categories",
            &admin,
            Some(json!({"name": "Orphan", "parent": "no-such-category"})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(!b["error"]["fields"]["parent"].is_null(), "{b}");
    let (s, b) = app
        .call(
            "POST",
            "/api/admin/categories",
            &admin,
            Some(json!({"name": "  "})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let (s, _) = app
        .call(
            "PATCH",
            "/api/admin/categories/nope",
            &admin,
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .call("DELETE", "/api/admin/categories/nope", &admin, None)
        .await;
    assert_eq!(s, 404);

    let shopper = {
        app.signup("shopper@example.com", crate::common::PASSWORD)
            .await;
        app.login("shopper@example.com", crate::common::PASSWORD)
            .await
    };
    let (s, _) = app
        .call(
            "POST",
            "/api/admin/categories",
            &shopper,
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(s, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_moves_cannot_make_a_loop(db: PgPool) {
    let (app, admin) = app(db).await;
    for body in [json!({"name": "Left"}), json!({"name": "Right"})] {
        let (status, b) = app
            .call("POST", "/api/admin/categories", &admin, Some(body))
            .await;
        assert_eq!(status, 201, "{b}");
    }
    // Left under Right and Right under Left at once: one may win, never both.
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            app.call(
                "PATCH",
                "/api/admin/categories/left",
                &admin,
                Some(json!({"parent": "right"}))
            ),
            app.call(
                "PATCH",
                "/api/admin/categories/right",
                &admin,
                Some(json!({"parent": "left"}))
            ),
        );
        assert!(a.0 == 409 || b.0 == 409, "{} {}", a.0, b.0);
        let (_, list) = app.get_json("/api/catalog/categories").await;
        let left = category(&list, "left")["parent"].clone();
        let right = category(&list, "right")["parent"].clone();
        assert!(!(left == "right" && right == "left"), "a loop: {list}");
        for slug in ["left", "right"] {
            let (s, _) = app
                .call(
                    "PATCH",
                    &format!("/api/admin/categories/{slug}"),
                    &admin,
                    Some(json!({"parent": null})),
                )
                .await;
            assert_eq!(s, 200);
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_pages_build_the_tree_without_javascript(db: PgPool) {
    let (app, admin) = app(db).await;
    let form = |original: &'static str, name: &'static str, parent: &'static str| {
        [
            ("original_slug", original),
            ("name", name),
            ("slug", ""),
            ("parent", parent),
            ("description", ""),
            ("position", "2"),
        ]
    };
    let res = app
        .post_form(
            "/rpc/admin/categories/save",
            &admin,
            &form("", "Rain Gear", "outdoor"),
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/admin/categories/rain-gear?saved=1"
    );
    let page = app
        .get_with_cookie("/admin/categories/rain-gear?saved=1", &admin)
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("Saved."));
    assert!(
        page.contains(r#"<option value="outdoor" selected"#),
        "the parent is chosen"
    );
    let tree = app
        .get_with_cookie("/admin/categories", &admin)
        .await
        .text()
        .await
        .expect("page");
    assert!(
        tree.contains(r#"— <a href="/admin/categories/rain-gear""#),
        "indented under its parent"
    );

    // Outdoor under its own child is refused, and nothing moves.
    let res = app
        .post_form(
            "/rpc/admin/categories/save",
            &admin,
            &form("outdoor", "Outdoor", "rain-gear"),
        )
        .await;
    assert_eq!(res.status(), 302, "back to the form");
    let (_, list) = app.get_json("/api/catalog/categories").await;
    assert_eq!(category(&list, "outdoor")["parent"], Value::Null);
    assert_eq!(category(&list, "rain-gear")["parent"], "outdoor");

    let res = app
        .post_form(
            "/rpc/admin/categories/delete",
            &admin,
            &[("slug", "rain-gear")],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/admin/categories?deleted=1");
    let (_, list) = app.get_json("/api/catalog/categories").await;
    assert!(list
        .as_array()
        .expect("array")
        .iter()
        .all(|c| c["slug"] != "rain-gear"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_demo_seed_files_products_under_subcategories_of_two_departments(db: PgPool) {
    let (app, _) = app(db).await;
    let (_, list) = app.get_json("/api/catalog/categories").await;
    // Three products a department: Electronics' are a headphone, a speaker and a charger,
    // Home & Kitchen's a mug, a teapot and a skillet.
    for (slug, parent, count) in [
        ("electronics", Value::Null, 3),
        ("audio", json!("electronics"), 2),
        ("computer-accessories", json!("electronics"), 1),
        ("home-kitchen", Value::Null, 3),
        ("tableware", json!("home-kitchen"), 1),
        ("cookware", json!("home-kitchen"), 2),
    ] {
        let c = category(&list, slug);
        assert_eq!(
            (&c["parent"], &c["product_count"]),
            (&parent, &json!(count)),
            "{c}"
        );
    }
    let (_, audio) = app.get_json("/api/catalog/products?category=audio").await;
    assert_eq!(audio["total"], 2);
    assert!(audio["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|p| p["category"] == "audio"));
    let (_, department) = app
        .get_json("/api/catalog/products?category=electronics")
        .await;
    assert_eq!(department["total"], 3, "the department lists its subtree");
    let (_, mug) = app.get_json("/api/catalog/products/classic-mug").await;
    assert_eq!(mug["category"], "tableware");

    let (_, page) = app.get_html("/products/classic-headphones").await;
    let crumbs = &page[page.find(r#"aria-label="Breadcrumb""#).expect("trail")..];
    let at = |needle: &str| crumbs.find(needle).unwrap_or_else(|| panic!("{needle}"));
    assert!(at(r#"href="/categories/electronics""#) < at(r#"href="/categories/audio""#));

    // Seeding again keeps the same tree: no second subcategory, nothing moves.
    seed(&app.db, &app.media_dir, 3).await;
    let (_, again) = app.get_json("/api/catalog/categories").await;
    assert_eq!(again, list);
}
