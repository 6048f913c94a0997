//! The merchant admin over the contract's JSON API: products, media, inventory, order
//! actions, customers, flags and the audit trail.

use crate::common::shop::{
    guest_checkout, paid_order, placed_order, set_stock, stock, Shopper, MUG,
};
use crate::common::{png, served_image, spawn_with, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;

async fn app_with(db: PgPool, extra: &[(&str, &str)]) -> (TestApp, String) {
    let mut env = vec![("OUTBOX_WORKER", "off")];
    env.extend_from_slice(extra);
    let app = spawn_with(db, &env).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    let admin = app.admin("boss@example.com").await;
    (app, admin)
}

async fn app(db: PgPool) -> (TestApp, String) {
    app_with(db, &[]).await
}

fn tea_mug() -> Value {
    json!({
        "name": "Tea Mug", "description": "A mug for tea.", "category": "kitchen", "active": true,
        "variants": [
            {"sku": "TEA-MUG-BLUE", "name": "Blue", "price": {"amount": 1400, "currency": "USD"}, "stock": 5},
            {"sku": "TEA-MUG-RED", "name": "Red", "price": {"amount": 1500, "currency": "USD"}, "stock": 0}
        ]
    })
}

async fn category(db: &PgPool) -> String {
    sqlx::query_scalar!("SELECT slug FROM categories ORDER BY position, id LIMIT 1")
        .fetch_one(db)
        .await
        .expect("category")
}

fn with_category(mut body: Value, slug: &str) -> Value {
    body["category"] = json!(slug);
    body
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_creates_edits_and_archives_a_product_and_the_shop_follows(db: PgPool) {
    let (app, admin) = app_with(db, &[("CATALOG_CACHE_TTL_SECS", "300")]).await;
    let cat = category(&app.db).await;
    let (status, created) = app
        .call(
            "POST",
            "/api/admin/products",
            &admin,
            Some(with_category(tea_mug(), &cat)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["slug"], "tea-mug", "a slug is made from the name");
    assert_eq!(created["variants"].as_array().map(Vec::len), Some(2));
    assert_eq!(created["variants"][0]["stock"], 5);

    // The storefront sees it, and keeps seeing the truth through its cache after edits.
    let (status, shop) = app.get_json("/api/catalog/products/tea-mug").await;
    assert_eq!((status, shop["name"].as_str()), (200, Some("Tea Mug")));
    let (status, edited) = app
        .call(
            "PATCH",
            "/api/admin/products/tea-mug",
            &admin,
            Some(json!({"name": "Big Tea Mug"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        edited["description"], "A mug for tea.",
        "fields left out stay as they were"
    );
    let (_, shop) = app.get_json("/api/catalog/products/tea-mug").await;
    assert_eq!(
        shop["name"], "Big Tea Mug",
        "the edit invalidated the catalog cache"
    );
    let events: Vec<String> = sqlx::query_scalar!("SELECT payload->>'change' AS \"c!\" FROM outbox WHERE topic = 'product_updated' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .expect("events");
    assert_eq!(events, ["created", "updated"]);

    // A second product with the same name gets the next free slug; an explicit clash is 409.
    let (status, second) = app.call("POST", "/api/admin/products", &admin, Some(with_category(json!({
        "name": "Tea Mug", "category": cat, "variants": [{"sku": "TEA-MUG-2", "name": "Standard", "price": {"amount": 900, "currency": "USD"}, "stock": 1}]
    }), &cat))).await;
    assert_eq!(
        (status, second["slug"].as_str()),
        (201, Some("tea-mug-2")),
        "{second}"
    );
    let mut clash = with_category(tea_mug(), &cat);
    clash["slug"] = json!("tea-mug");
    clash["variants"] = json!([{"sku": "NEW-SKU", "name": "x", "price": {"amount": 1, "currency": "USD"}, "stock": 0}]);
    let (status, err) = app
        .call("POST", "/api/admin/products", &admin, Some(clash))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{err}"
    );
    let mut dup_sku = with_category(tea_mug(), &cat);
    dup_sku["slug"] = json!("another-mug");
    let (status, _) = app
        .call("POST", "/api/admin/products", &admin, Some(dup_sku))
        .await;
    assert_eq!(status, 409, "a SKU of another product");

    let (status, _) = app
        .call("DELETE", "/api/admin/products/tea-mug", &admin, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.get_json("/api/catalog/products/tea-mug").await.0,
        404,
        "archived products leave the shop"
    );
    let (status, archived) = app
        .call("GET", "/api/admin/products/tea-mug", &admin, None)
        .await;
    assert_eq!(
        (status, archived["active"].as_bool()),
        (200, Some(false)),
        "the admin still sees it"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn invalid_products_are_422_with_every_field_named_and_nothing_written(db: PgPool) {
    let (app, admin) = app(db).await;
    let body = json!({"name": "", "category": "no-such-category", "variants": [
        {"sku": "bad sku!", "name": "", "price": {"amount": -1, "currency": "USD"}, "stock": -2}
    ]});
    let (status, err) = app
        .call("POST", "/api/admin/products", &admin, Some(body))
        .await;
    assert_eq!(status, 422, "{err}");
    for field in [
        "name",
        "variants[0].sku",
        "variants[0].name",
        "variants[0].price",
        "variants[0].stock",
    ] {
        assert!(
            err["error"]["fields"].get(field).is_some(),
            "{field} in {err}"
        );
    }
    let unknown_category = json!({"name": "Thing", "category": "no-such-category", "variants": [
        {"sku": "THING-1", "name": "Standard", "price": {"amount": 100, "currency": "USD"}, "stock": 1}
    ]});
    let (status, err) = app
        .call(
            "POST",
            "/api/admin/products",
            &admin,
            Some(unknown_category),
        )
        .await;
    assert_eq!(status, 422);
    assert!(err["error"]["fields"]["category"].is_array(), "{err}");
    let n: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM variants WHERE sku = 'THING-1'"#)
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn stock_adjustments_are_audited_and_never_go_below_zero(db: PgPool) {
    let (app, admin) = app(db).await;
    set_stock(&app.db, MUG, 3).await;
    let path = format!("/api/admin/inventory/{MUG}/adjust");
    let (status, body) = app
        .call(
            "POST",
            &path,
            &admin,
            Some(json!({"delta": 7, "reason": "delivery from supplier"})),
        )
        .await;
    assert_eq!((status, body["stock"].as_i64()), (200, Some(10)), "{body}");
    let (status, err) = app
        .call(
            "POST",
            &path,
            &admin,
            Some(json!({"delta": -11, "reason": "stocktake"})),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(stock(&app.db, MUG).await, 10);
    let (status, _) = app
        .call(
            "POST",
            &path,
            &admin,
            Some(json!({"delta": 0, "reason": ""})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        app.call(
            "POST",
            "/api/admin/inventory/NO-SUCH-SKU/adjust",
            &admin,
            Some(json!({"delta": 1, "reason": "x"}))
        )
        .await
        .0,
        404
    );

    let trail = sqlx::query!(
        "SELECT delta, stock_after, reason, actor_email FROM inventory_adjustments WHERE sku = $1",
        MUG
    )
    .fetch_all(&app.db)
    .await
    .expect("trail");
    assert_eq!(trail.len(), 1, "only the change that happened is recorded");
    assert_eq!(
        (
            trail[0].delta,
            trail[0].stock_after,
            trail[0].actor_email.as_str()
        ),
        (7, 10, "boss@example.com")
    );
    assert_eq!(trail[0].reason, "delivery from supplier");
}

#[sqlx::test(migrations = "../migrations")]
async fn thirty_concurrent_decrements_of_ten_units_stop_exactly_at_zero(db: PgPool) {
    let (app, admin) = app(db).await;
    set_stock(&app.db, MUG, 10).await;
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (app, admin) = (app.clone(), admin.clone());
            tokio::spawn(async move {
                app.call(
                    "POST",
                    &format!("/api/admin/inventory/{MUG}/adjust"),
                    &admin,
                    Some(json!({"delta": -1, "reason": "shrinkage"})),
                )
                .await
                .0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("join"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 20);
    assert_eq!(stock(&app.db, MUG).await, 0);
}

async fn status_of(db: &PgPool, id: &str) -> String {
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    sqlx::query_scalar!("SELECT status FROM orders WHERE id = $1", id)
        .fetch_one(db)
        .await
        .expect("status")
}

#[sqlx::test(migrations = "../migrations")]
async fn ship_and_cancel_work_from_legal_statuses_and_are_409_from_the_rest(db: PgPool) {
    let (app, admin) = app(db).await;
    set_stock(&app.db, MUG, 20).await;
    let ship = |id: &str| format!("/api/admin/orders/{id}/ship");
    let cancel = |id: &str| format!("/api/admin/orders/{id}/cancel");
    let tracking = Some(json!({"tracking_number": "1Z999AA10123456784"}));

    // pending_payment: cannot ship; can cancel (stock comes back).
    let (pending, _) = placed_order(&app).await;
    assert_eq!(
        app.call("POST", &ship(&pending), &admin, tracking.clone())
            .await
            .0,
        409
    );
    let before = stock(&app.db, MUG).await;
    let (status, body) = app.call("POST", &cancel(&pending), &admin, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    assert_eq!(stock(&app.db, MUG).await, before + 1);

    // cancelled: neither.
    assert_eq!(
        app.call("POST", &ship(&pending), &admin, tracking.clone())
            .await
            .0,
        409
    );
    assert_eq!(
        app.call("POST", &cancel(&pending), &admin, None).await.0,
        409
    );

    // paid: ship needs a tracking number, then works; shipped cannot be cancelled.
    let paid = paid_order(&app).await;
    assert_eq!(
        app.call(
            "POST",
            &ship(&paid),
            &admin,
            Some(json!({"tracking_number": ""}))
        )
        .await
        .0,
        422
    );
    let (status, body) = app
        .call("POST", &ship(&paid), &admin, tracking.clone())
        .await;
    assert_eq!(
        (status, body["tracking_number"].as_str()),
        (200, Some("1Z999AA10123456784")),
        "{body}"
    );
    assert_eq!(
        app.call("POST", &ship(&paid), &admin, tracking.clone())
            .await
            .0,
        409
    );
    assert_eq!(app.call("POST", &cancel(&paid), &admin, None).await.0, 409);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/admin/orders/{paid}/deliver"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.call("POST", &ship(&paid), &admin, tracking.clone())
            .await
            .0,
        409,
        "delivered cannot ship again"
    );

    // paid, then cancelled by the shop: refunded through the provider and restocked.
    let other = paid_order(&app).await;
    let before = stock(&app.db, MUG).await;
    let (status, body) = app.call("POST", &cancel(&other), &admin, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    assert_eq!(stock(&app.db, MUG).await, before + 1);
    let refunded: i64 = sqlx::query_scalar!(
        r#"SELECT amount_refunded AS "n!" FROM dev_payment_sessions WHERE order_id = $1"#,
        uuid::Uuid::parse_str(&other).expect("uuid")
    )
    .fetch_one(&app.db)
    .await
    .expect("refund");
    assert!(refunded > 0, "the provider refunded the payment");

    // The shopper hears about each change.
    app.drain_outbox().await;
    let subjects: Vec<String> = app
        .mailbox("guest@example.com")
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    for s in [
        "Your Bazaar order has shipped",
        "Your Bazaar order was delivered",
        "Your Bazaar order was cancelled",
    ] {
        assert!(
            subjects.iter().any(|x| x == s),
            "{s} missing from {subjects:?}"
        );
    }
    let audit: Vec<String> = sqlx::query_scalar!("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&app.db)
        .await
        .expect("audit");
    assert!(
        audit.contains(&"order.shipped".to_owned())
            && audit.contains(&"order.cancelled".to_owned()),
        "{audit:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn orders_can_be_listed_by_status_and_date(db: PgPool) {
    let (app, admin) = app(db).await;
    set_stock(&app.db, MUG, 10).await;
    let (pending, _) = placed_order(&app).await;
    let paid = paid_order(&app).await;
    let (status, list) = app
        .call("GET", "/api/admin/orders?status=paid", &admin, None)
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, [paid.as_str()]);
    let today = time::OffsetDateTime::now_utc().date();
    let (_, list) = app
        .call(
            "GET",
            &format!("/api/admin/orders?from={today}&to={today}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let (_, list) = app
        .call(
            "GET",
            "/api/admin/orders?from=2000-01-01&to=2000-01-02",
            &admin,
            None,
        )
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    assert_eq!(
        app.call("GET", "/api/admin/orders?status=lost", &admin, None)
            .await
            .0,
        400
    );
    assert_eq!(
        app.call("GET", "/api/admin/orders?from=yesterday", &admin, None)
            .await
            .0,
        400
    );
    assert_eq!(status_of(&app.db, &pending).await, "pending_payment");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_last_admin_cannot_be_revoked_but_others_can_be_granted_and_revoked(db: PgPool) {
    let (app, admin) = app(db).await;
    let shopper = app
        .signup("shopper@example.com", crate::common::PASSWORD)
        .await;
    let boss: String = sqlx::query_scalar!(
        r#"SELECT id::text AS "id!" FROM users WHERE email = 'boss@example.com'"#
    )
    .fetch_one(&app.db)
    .await
    .expect("id");
    let admin_service = || {
        let actor = domain::admin::Actor {
            id: uuid::Uuid::parse_str(&boss).expect("uuid"),
            email: "boss@example.com".into(),
        };
        (actor, app_admin(&app))
    };
    let (actor, svc) = admin_service();
    let err = svc
        .set_admin(&actor, &boss, false)
        .await
        .expect_err("last admin");
    assert_eq!(err.status(), 409);
    let shopper_id = shopper["id"].as_str().expect("id");
    svc.set_admin(&actor, shopper_id, true)
        .await
        .expect("grant");
    let customers = app.call("POST", "/rpc/admin/customers", &admin, None).await;
    assert_eq!(customers.0, 200);
    svc.set_admin(&actor, &boss, false)
        .await
        .expect("now another admin remains");
    let err = svc
        .set_admin(&actor, shopper_id, false)
        .await
        .expect_err("last one again");
    assert_eq!(err.status(), 409);
}

fn app_admin(app: &TestApp) -> domain::Accounts {
    domain::Accounts::new(
        app.db.clone(),
        domain::accounts::TokenKeys::new(&"x".repeat(40), std::time::Duration::from_secs(60)),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn turning_off_express_shipping_takes_it_out_of_checkout(db: PgPool) {
    let (app, admin) = app(db).await;
    set_stock(&app.db, MUG, 10).await;
    let set = |enabled: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.client
                .post(app.url("/rpc/admin/flags/set"))
                .header("cookie", admin)
                .form(&[("key", "express_shipping"), ("enabled", enabled)])
                .send()
                .await
                .expect("flag")
                .status()
                .as_u16()
        }
    };
    assert_eq!(set("false").await, 200);
    let mut shopper = Shopper::new(&app);
    shopper.add(MUG, 1).await;
    let mut express = guest_checkout();
    express["shipping_method"] = json!("express");
    let (status, err) = shopper.checkout("k1", express.clone()).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["error"]["fields"]["shipping_method"].is_array());
    assert_eq!(set("true").await, 200);
    assert_eq!(shopper.checkout("k2", express).await.0, 201);
    let audit: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM audit_log WHERE action = 'flag.set'"#)
            .fetch_one(&app.db)
            .await
            .expect("audit");
    assert_eq!(audit, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_are_sniffed_resized_stored_safely_and_served_with_cache_headers(db: PgPool) {
    let (app, admin) = app(db).await;
    // A path-traversal file name changes nothing: we name stored objects ourselves.
    let (status, product) = app
        .upload_image(
            &admin,
            "classic-mug",
            "../../../etc/evil.png",
            png(1600, 800),
        )
        .await;
    assert_eq!(status, 200, "{product}");
    let large = product["image_url"].as_str().expect("image").to_owned();
    let thumb = product["thumb_url"].as_str().expect("thumb").to_owned();
    assert!(
        large.starts_with("/media/products/classic-mug/") && large.ends_with("-1200.jpg"),
        "{large}"
    );
    assert!(thumb.ends_with("-400.jpg"), "{thumb}");
    assert!(!std::path::Path::new("/etc/evil.png").exists());
    let stored: Vec<_> = walk(&app.media_dir);
    assert!(
        stored.iter().all(|p| p.starts_with(&app.media_dir)),
        "{stored:?}"
    );

    let img = served_image(&app, &large).await;
    assert_eq!((img.width(), img.height()), (1200, 600));
    // The shop's listing uses the small rendition.
    let (_, listing) = app.get_json("/api/catalog/products?q=classic+mug").await;
    assert!(
        listing["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["image_url"] == thumb),
        "{listing}"
    );

    // A script renamed .png is refused by its content, and so is a file over 5 MiB.
    let (status, err) = app
        .upload_image(
            &admin,
            "classic-mug",
            "photo.png",
            b"#!/bin/sh\nrm -rf /\n".to_vec(),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(err["error"]["fields"]["image"].is_array());
    let (status, _) = app
        .upload_image(
            &admin,
            "classic-mug",
            "huge.png",
            vec![0u8; 6 * 1024 * 1024],
        )
        .await;
    assert_eq!(status, 413);
    let (status, _) = app
        .upload_image(&admin, "no-such-product", "x.png", png(10, 10))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.get("/media/../../etc/passwd").await.status().as_u16(),
        404
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

async fn rpc(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("rpc");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_forms_refuse_bad_input_with_4xx_and_write_nothing(db: PgPool) {
    let (app, admin) = app(db).await;
    set_stock(&app.db, MUG, 4).await;
    let products_before: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM products"#)
        .fetch_one(&app.db)
        .await
        .expect("count");

    let (status, err) = rpc(
        &app,
        &admin,
        "/rpc/admin/products/save",
        &[
            ("original_slug", ""),
            ("form[name]", ""),
            ("form[category]", "kitchen"),
            ("form[variants][0][sku]", "bad sku!"),
            ("form[variants][0][name]", "Standard"),
            ("form[variants][0][price]", "twelve"),
            ("form[variants][0][stock]", "3"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let (status, _) = rpc(
        &app,
        &admin,
        "/rpc/admin/inventory/adjust",
        &[
            ("slug", "classic-mug"),
            ("sku", MUG),
            ("delta", "lots"),
            ("reason", "count"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = rpc(
        &app,
        &admin,
        "/rpc/admin/flags/set",
        &[("key", "no_such_flag"), ("enabled", "true")],
    )
    .await;
    assert_eq!(status, 404);
    let (pending, _) = placed_order(&app).await;
    let (status, _) = rpc(
        &app,
        &admin,
        "/rpc/admin/orders/act",
        &[("id", pending.as_str()), ("action", "explode")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = rpc(
        &app,
        &admin,
        "/rpc/admin/orders/ship",
        &[("id", pending.as_str()), ("tracking_number", "")],
    )
    .await;
    assert_eq!(status, 422);

    let products_after: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM products"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(products_after, products_before, "no product was written");
    assert_eq!(
        stock(&app.db, MUG).await,
        3,
        "only the order took stock; the bad adjustment did not"
    );
    assert_eq!(status_of(&app.db, &pending).await, "pending_payment");
    let audit: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM audit_log"#)
        .fetch_one(&app.db)
        .await
        .expect("audit");
    assert_eq!(audit, 0, "refused actions leave no audit entry");
}

/// The product editor's form for the tea mug's blue variant, as the page posts it.
fn editor_form<'a>(name: &'a str, stock: &'a str, stock_was: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("original_slug", "tea-mug"),
        ("form[name]", name),
        ("form[slug]", "tea-mug"),
        ("form[category]", "kitchen"),
        ("form[active]", "on"),
        ("form[variants][0][sku]", "TEA-MUG-BLUE"),
        ("form[variants][0][name]", "Blue"),
        ("form[variants][0][price]", "14.00"),
        ("form[variants][0][stock]", stock),
        ("form[variants][0][stock_was]", stock_was),
        ("form[variants][1][sku]", "TEA-MUG-RED"),
        ("form[variants][1][name]", "Red"),
        ("form[variants][1][price]", "15.00"),
        ("form[variants][1][stock]", "0"),
        ("form[variants][1][stock_was]", "0"),
    ]
}

async fn trail_of(db: &PgPool, sku: &str) -> Vec<(i32, i32, String)> {
    sqlx::query!(
        "SELECT delta, stock_after, reason FROM inventory_adjustments WHERE sku = $1 ORDER BY id",
        sku
    )
    .fetch_all(db)
    .await
    .expect("trail")
    .into_iter()
    .map(|r| (r.delta, r.stock_after, r.reason))
    .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_edit_saved_after_a_sale_keeps_the_sale_and_a_stale_stock_is_409(db: PgPool) {
    const BLUE: &str = "TEA-MUG-BLUE";
    let (app, admin) = app(db).await;
    let mut mug = tea_mug();
    mug["category"] = json!("kitchen");
    sqlx::query!(
        "UPDATE categories SET slug = 'kitchen' WHERE slug = $1",
        category(&app.db).await
    )
    .execute(&app.db)
    .await
    .expect("a kitchen category");
    let (status, created) = app
        .call("POST", "/api/admin/products", &admin, Some(mug))
        .await;
    assert_eq!(status, 201, "{created}");

    // The merchant opens the editor (blue: 5 on hand); a shopper then buys two.
    let mut shopper = Shopper::new(&app);
    assert_eq!(shopper.add(BLUE, 2).await.0, 200);
    let (status, placed) = shopper.checkout("sale-1", guest_checkout()).await;
    assert_eq!(status, 201, "{placed}");
    let after_sale = stock(&app.db, BLUE).await;
    assert_eq!(after_sale, 3, "the order holds two");

    // Saving the page as loaded renames the product and leaves the stock to the sale.
    let (status, body) = rpc(
        &app,
        &admin,
        "/rpc/admin/products/save",
        &editor_form("Tea Mug II", "5", "5"),
    )
    .await;
    assert!(status < 400, "{status} {body}");
    assert_eq!(
        stock(&app.db, BLUE).await,
        after_sale,
        "the sale is not overwritten"
    );
    let (_, product) = app
        .call("GET", "/api/admin/products/tea-mug", &admin, None)
        .await;
    assert_eq!(product["name"], "Tea Mug II");

    // Typing a new stock on that stale page is refused, and nothing of the edit is saved.
    let (status, body) = rpc(
        &app,
        &admin,
        "/rpc/admin/products/save",
        &editor_form("Tea Mug III", "20", "5"),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(stock(&app.db, BLUE).await, after_sale);
    let (_, product) = app
        .call("GET", "/api/admin/products/tea-mug", &admin, None)
        .await;
    assert_eq!(
        product["name"], "Tea Mug II",
        "the refused edit wrote nothing"
    );

    // With the value on hand it is a compare-and-set that lands, in the trail.
    let (status, body) = rpc(
        &app,
        &admin,
        "/rpc/admin/products/save",
        &editor_form("Tea Mug II", "20", "3"),
    )
    .await;
    assert!(status < 400, "{status} {body}");
    assert_eq!(stock(&app.db, BLUE).await, 20);
    let trail = trail_of(&app.db, BLUE).await;
    assert_eq!(
        trail.last(),
        Some(&(17, 20, "set in product edit".to_owned())),
        "{trail:?}"
    );

    // The API: an absolute stock without the value it replaces is a 409; leaving stock
    // out edits the rest and keeps it.
    let variant = |stock: Option<i64>, was: Option<i64>| {
        let mut v =
            json!({"sku": BLUE, "name": "Navy", "price": {"amount": 1400, "currency": "USD"}});
        if let Some(s) = stock {
            v["stock"] = json!(s);
        }
        if let Some(w) = was {
            v["stock_was"] = json!(w);
        }
        json!({"variants": [v, {"sku": "TEA-MUG-RED", "name": "Red", "price": {"amount": 1500, "currency": "USD"}}]})
    };
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/tea-mug",
            &admin,
            Some(variant(Some(50), None)),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/tea-mug",
            &admin,
            Some(variant(Some(50), Some(19))),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/tea-mug",
            &admin,
            Some(variant(None, None)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["variants"][0]["name"].as_str(),
            stock(&app.db, BLUE).await
        ),
        (Some("Navy"), 20)
    );
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/tea-mug",
            &admin,
            Some(variant(Some(25), Some(20))),
        )
        .await;
    assert_eq!(
        (status, body["variants"][0]["stock"].as_i64()),
        (200, Some(25)),
        "{body}"
    );

    // Removing a variant keeps its history, closed by the removal.
    let only_red = json!({"variants": [{"sku": "TEA-MUG-RED", "name": "Red", "price": {"amount": 1500, "currency": "USD"}}]});
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/tea-mug",
            &admin,
            Some(only_red),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let trail = trail_of(&app.db, BLUE).await;
    assert_eq!(
        trail.first(),
        Some(&(5, 5, "initial stock".to_owned())),
        "{trail:?}"
    );
    assert_eq!(
        trail.last(),
        Some(&(-25, 0, "variant removed".to_owned())),
        "{trail:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_api_error_rewritten_into_the_contract_shape_is_never_labelled_compressed(db: PgPool) {
    let (app, admin) = app(db).await;
    // A multipart body without its boundary: axum answers in plain text, which the
    // compression layer gzips and the contract layer then rewrites as JSON.
    let res = app
        .client
        .post(app.url("/api/admin/products/anything/image"))
        .header("cookie", &admin)
        .header("accept-encoding", "gzip")
        .header("content-type", "multipart/form-data")
        .body("not a form")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let gzip = res
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let body = res.bytes().await.expect("body");
    if gzip {
        assert_eq!(
            body.get(..2),
            Some(&[0x1f, 0x8b][..]),
            "labelled gzip but plain: {body:?}"
        );
    } else {
        let json: Value = serde_json::from_slice(&body).expect("a JSON error body");
        assert_eq!(json["error"]["code"], "bad_request");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn admin_filters_with_control_characters_are_a_400_not_a_database_error(db: PgPool) {
    let (app, admin) = app(db).await;
    for query in ["category=%00kitchen", "q=mug%00", "status=active%00"] {
        let res = app
            .client
            .get(app.url(&format!("/api/admin/products?{query}")))
            .header("cookie", &admin)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 400, "{query}");
    }
    let res = app
        .client
        .get(app.url("/api/admin/orders?status=paid%00"))
        .header("cookie", &admin)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_nul_character_in_a_product_edit_is_a_422_and_changes_nothing(db: PgPool) {
    let (app, admin) = app(db).await;
    let (_, before) = app.get_json("/api/catalog/products/classic-mug").await;
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/classic-mug",
            &admin,
            Some(json!({"description": "a mug\u{0}with a NUL"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (_, after) = app.get_json("/api/catalog/products/classic-mug").await;
    assert_eq!(after["description"], before["description"]);
}
