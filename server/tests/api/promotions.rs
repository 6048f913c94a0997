//! Discount codes: the merchant's API, the code on a cart, checkout's own check and the
//! redemption race, the amounts adding up, and the use given back by a cancelled or
//! expired order, exactly once.

use crate::common::shop::{address, guest_checkout, set_stock, stock, Shopper, MUG};
use crate::common::{seed, spawn_with, TestApp, PASSWORD};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;

/// A seeded electronics SKU (Audio, under Electronics).
const HEADPHONES: &str = "CLASSIC-HEADPHONES-BLACK";

async fn shop(db: PgPool, env: &[(&str, &str)]) -> (TestApp, String) {
    let mut env = env.to_vec();
    env.push(("OUTBOX_WORKER", "off"));
    let app = spawn_with(db, &env).await;
    seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 100).await;
    set_stock(&app.db, HEADPHONES, 100).await;
    let admin = app.admin("boss@example.com").await;
    (app, admin)
}

async fn create(app: &TestApp, admin: &str, body: Value) -> (u16, Value) {
    app.call("POST", "/api/admin/promotions", admin, Some(body))
        .await
}

async fn apply(shopper: &mut Shopper<'_>, code: &str) -> (u16, Value) {
    let req = shopper
        .app
        .client
        .post(shopper.app.url("/api/cart/discount"))
        .json(&json!({ "code": code }));
    shopper.send(req).await
}

async fn price(db: &PgPool, sku: &str) -> i64 {
    sqlx::query_scalar!("SELECT price_amount FROM variants WHERE sku = $1", sku)
        .fetch_one(db)
        .await
        .expect("price")
}

async fn redeemed(db: &PgPool, code: &str) -> i32 {
    sqlx::query_scalar!("SELECT redeemed FROM promotions WHERE code = $1", code)
        .fetch_one(db)
        .await
        .expect("promotion")
}

#[sqlx::test(migrations = "../migrations")]
async fn the_merchant_creates_lists_edits_and_switches_off_codes_and_each_change_is_audited(
    db: PgPool,
) {
    let (app, admin) = shop(db, &[]).await;
    let (status, created) = create(
        &app,
        &admin,
        json!({"code": "summer15", "kind": "percent", "value": 1500,
               "min_subtotal": {"amount": 2000, "currency": "USD"},
               "ends_at": "2099-01-01T00:00:00Z", "usage_limit": 100, "per_customer_limit": 1,
               "applies_to": {"categories": ["electronics"], "skus": [MUG]}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["code"], "SUMMER15", "codes are kept upper-case");
    assert_eq!(
        (&created["kind"], &created["value"], &created["label"]),
        (&json!("percent"), &json!(1500), &json!("15% off"))
    );
    assert_eq!(created["applies_to"]["categories"], json!(["electronics"]));
    assert_eq!(
        (&created["redeemed"], &created["active"]),
        (&json!(0), &json!(true))
    );

    // Codes are case-insensitive: the same letters in another case are taken.
    let (status, body) = create(
        &app,
        &admin,
        json!({"code": "Summer15", "kind": "free_shipping"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Every bad field is named, and nothing is written.
    let (status, body) = create(
        &app,
        &admin,
        json!({"code": "BAD CODE", "kind": "fixed", "value": {"amount": -5, "currency": "USD"},
               "usage_limit": 0, "starts_at": "tomorrow",
               "applies_to": {"categories": ["no-such-category"], "skus": ["NO-SUCH-SKU"]}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    for field in ["code", "value", "usage_limit"] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
    let (status, body) = create(
        &app,
        &admin,
        json!({"code": "WINDOW", "kind": "free_shipping", "starts_at": "tomorrow",
               "applies_to": {"categories": ["no-such-category"], "skus": ["NO-SUCH-SKU"]}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    for field in [
        "starts_at",
        "applies_to.categories[0]",
        "applies_to.skus[0]",
    ] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
    let (status, body) = create(
        &app,
        &admin,
        json!({"code": "BACKWARDS", "kind": "free_shipping",
               "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["ends_at"].is_array(), "{body}");

    // Newest first; the demo seed's own code is there too.
    let (_, list) = app.call("GET", "/api/admin/promotions", &admin, None).await;
    let codes: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(codes, ["SUMMER15", "WELCOME10"], "{list}");

    // An edit changes what it names and keeps the rest; null clears.
    let (status, edited) = app
        .call(
            "PATCH",
            "/api/admin/promotions/summer15",
            &admin,
            Some(json!({"value": 2000, "usage_limit": null, "applies_to": {"categories": [], "skus": []}})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (
            &edited["value"],
            &edited["usage_limit"],
            &edited["per_customer_limit"]
        ),
        (&json!(2000), &Value::Null, &json!(1))
    );
    assert_eq!(edited["applies_to"], json!({"categories": [], "skus": []}));
    let (status, _) = app
        .call(
            "PATCH",
            "/api/admin/promotions/NOPE",
            &admin,
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, 404);

    // Switched off, a shopper is told so; switched back on, it works again.
    let (status, _) = app
        .call("DELETE", "/api/admin/promotions/SUMMER15", &admin, None)
        .await;
    assert_eq!(status, 204);
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 3).await;
    let (status, body) = apply(&mut ann, "summer15").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .expect("message")
        .contains("no longer active"));
    app.call(
        "PATCH",
        "/api/admin/promotions/SUMMER15",
        &admin,
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(apply(&mut ann, "summer15").await.0, 200);

    let actions: Vec<String> =
        sqlx::query_scalar!("SELECT action FROM audit_log WHERE target = 'SUMMER15' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .expect("audit");
    assert_eq!(
        actions,
        [
            "promotion.create",
            "promotion.update",
            "promotion.deactivate",
            "promotion.update"
        ]
    );

    // Shoppers and guests cannot touch the merchant's codes.
    let shopper = {
        app.signup("ann@example.com", PASSWORD).await;
        app.login("ann@example.com", PASSWORD).await
    };
    for (cookie, expected) in [("", 401), (shopper.as_str(), 403)] {
        let (status, _) = app.call("GET", "/api/admin/promotions", cookie, None).await;
        assert_eq!(status, expected);
        let (status, _) =
            create(&app, cookie, json!({"code": "X1", "kind": "free_shipping"})).await;
        assert_eq!(status, expected);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cart_refuses_a_code_with_the_reason_and_shows_what_a_good_one_takes_off(db: PgPool) {
    let (app, admin) = shop(db, &[]).await;
    let mug = price(&app.db, MUG).await;
    for body in [
        json!({"code": "OLD", "kind": "percent", "value": 1000, "ends_at": "2001-01-01T00:00:00Z"}),
        json!({"code": "SOON", "kind": "percent", "value": 1000, "starts_at": "2099-01-01T00:00:00Z"}),
        json!({"code": "BIG", "kind": "percent", "value": 1000, "min_subtotal": {"amount": mug * 50, "currency": "USD"}}),
        json!({"code": "GADGETS", "kind": "percent", "value": 1000, "applies_to": {"categories": ["electronics"]}}),
        json!({"code": "ONCE", "kind": "percent", "value": 1000, "usage_limit": 1}),
        json!({"code": "TEN", "kind": "percent", "value": 1000}),
    ] {
        assert_eq!(create(&app, &admin, body).await.0, 201);
    }
    sqlx::query!("UPDATE promotions SET redeemed = 1 WHERE code = 'ONCE'")
        .execute(&app.db)
        .await
        .expect("use it up");
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 2).await;
    assert_eq!(apply(&mut ann, "NO-SUCH-CODE").await.0, 404);
    assert_eq!(apply(&mut ann, "not a code!").await.0, 404);
    for (code, reason) in [
        ("old", "has expired"),
        ("soon", "not valid yet"),
        ("big", "needs a subtotal of at least"),
        ("gadgets", "does not apply to anything in your cart"),
        ("once", "used up"),
    ] {
        let (status, body) = apply(&mut ann, code).await;
        assert_eq!(status, 422, "{code}: {body}");
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
            + &body["error"]["fields"]["code"].to_string();
        assert!(message.contains(reason), "{code}: {body}");
    }
    assert_eq!(
        ann.cart().await["discount"],
        Value::Null,
        "a refused code is not kept"
    );

    let (status, cart) = apply(&mut ann, "ten").await;
    assert_eq!(status, 200, "{cart}");
    let off = (mug * 2 * 1000 + 5_000) / 10_000;
    assert_eq!(cart["discount"]["code"], "TEN");
    assert_eq!(
        cart["discount"]["amount"],
        json!({"amount": off, "currency": "USD"})
    );
    assert_eq!(cart["total"]["amount"], mug * 2 - off);
    assert_eq!(
        cart["items"][0]["discount"]["amount"], off,
        "shown on its line"
    );

    // A code that stops applying stays on the cart with the reason, until removed.
    sqlx::query!("UPDATE promotions SET ends_at = now() - interval '1 second', starts_at = NULL WHERE code = 'TEN'")
        .execute(&app.db)
        .await
        .expect("expire");
    let cart = ann.cart().await;
    assert_eq!(
        (&cart["discount"], &cart["total"]),
        (&Value::Null, &cart["subtotal"])
    );
    assert!(
        cart["discount_note"]
            .as_str()
            .expect("note")
            .contains("expired"),
        "{cart}"
    );
    let (status, cart) = ann
        .send(app.client.delete(app.url("/api/cart/discount")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&cart["discount"], &cart["discount_note"]),
        (&Value::Null, &Value::Null)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_category_code_covers_only_that_subtree_and_each_line_shows_its_share(db: PgPool) {
    let (app, admin) = shop(db, &[]).await;
    let code = json!({"code": "GADGETS", "kind": "fixed", "value": {"amount": 1_000_000, "currency": "USD"},
                      "applies_to": {"categories": ["electronics"]}});
    assert_eq!(create(&app, &admin, code).await.0, 201);
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 1).await;
    ann.add(HEADPHONES, 2).await;
    let (status, cart) = apply(&mut ann, "gadgets").await;
    assert_eq!(status, 200, "{cart}");
    let headphones = price(&app.db, HEADPHONES).await * 2;
    // A fixed amount bigger than the covered lines takes exactly them off, nothing else.
    assert_eq!(cart["discount"]["amount"]["amount"], headphones);
    let line = |sku: &str| {
        cart["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|l| l["sku"] == sku)
            .cloned()
            .expect("line")
    };
    assert_eq!(line(HEADPHONES)["discount"]["amount"], headphones);
    assert_eq!(line(MUG)["discount"], Value::Null);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_order_keeps_its_discount_and_its_amounts_add_up(db: PgPool) {
    let (app, admin) = shop(db, &[("TAX_RATE_BPS", "725")]).await;
    assert_eq!(
        create(
            &app,
            &admin,
            json!({"code": "TAKE15", "kind": "percent", "value": 1500})
        )
        .await
        .0,
        201
    );
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 3).await;
    ann.add(HEADPHONES, 1).await;
    assert_eq!(apply(&mut ann, "take15").await.0, 200);
    let (status, placed) = ann.checkout("k1", guest_checkout()).await;
    assert_eq!(status, 201, "{placed}");
    let id = uuid::Uuid::parse_str(placed["order_id"].as_str().expect("id")).expect("uuid");
    let order: Value = sqlx::query_scalar!(
        r#"SELECT jsonb_build_object('subtotal', subtotal_amount, 'discount', discount_amount,
                  'shipping', shipping_amount, 'tax', tax_amount, 'total', total_amount,
                  'code', discount_code) AS "o!" FROM orders WHERE id = $1"#,
        id
    )
    .fetch_one(&app.db)
    .await
    .expect("order");
    let n = |k: &str| order[k].as_i64().expect(k);
    let subtotal = price(&app.db, MUG).await * 3 + price(&app.db, HEADPHONES).await;
    let discount = (subtotal * 1500 + 5_000) / 10_000;
    let tax = ((subtotal - discount) * 725 + 5_000) / 10_000;
    assert_eq!(
        (n("subtotal"), n("discount"), n("shipping"), n("tax")),
        (subtotal, discount, 500, tax)
    );
    assert_eq!(n("total"), subtotal - discount + 500 + tax);
    assert_eq!(placed["total"]["amount"], n("total"));
    assert_eq!(order["code"], "TAKE15");
    let lines: i64 = sqlx::query_scalar!(
        r#"SELECT sum(discount_amount)::int8 AS "n!" FROM order_lines WHERE order_id = $1"#,
        id
    )
    .fetch_one(&app.db)
    .await
    .expect("lines");
    assert_eq!(lines, discount, "the lines' shares add up to the discount");
    assert_eq!(redeemed(&app.db, "TAKE15").await, 1);
    assert_eq!(
        ann.cart().await["discount"],
        Value::Null,
        "the code left with the cart"
    );

    // Free shipping takes the shipping charge away and nothing off the goods.
    assert_eq!(
        create(
            &app,
            &admin,
            json!({"code": "SHIPFREE", "kind": "free_shipping"})
        )
        .await
        .0,
        201
    );
    ann.add(MUG, 1).await;
    assert_eq!(apply(&mut ann, "shipfree").await.0, 200);
    let body = json!({"email": "ann@example.com", "shipping_address": address(), "shipping_method": "express"});
    let (status, placed) = ann.checkout("k2", body).await;
    assert_eq!(status, 201, "{placed}");
    let mug = price(&app.db, MUG).await;
    assert_eq!(
        placed["total"]["amount"],
        mug + (mug * 725 + 5_000) / 10_000
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn fifty_checkouts_at_once_redeem_a_code_limited_to_five_exactly_five_times(db: PgPool) {
    let (app, admin) = shop(db, &[]).await;
    let app = Arc::new(app);
    assert_eq!(
        create(
            &app,
            &admin,
            json!({"code": "FIRST5", "kind": "percent", "value": 2000, "usage_limit": 5})
        )
        .await
        .0,
        201
    );
    let mut cookies = Vec::new();
    for _ in 0..50 {
        let mut s = Shopper::new(&app);
        assert_eq!(s.add(MUG, 1).await.0, 200);
        assert_eq!(apply(&mut s, "first5").await.0, 200);
        cookies.push(s.cookie.expect("cookie"));
    }
    let before = stock(&app.db, MUG).await;
    let start = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for (i, cookie) in cookies.into_iter().enumerate() {
        let (app, start) = (app.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let res = app
                .client
                .post(app.url("/api/checkout"))
                .header("cookie", cookie)
                .header("idempotency-key", format!("race-{i}"))
                .json(&json!({"email": format!("buyer{i}@example.com"), "shipping_address": address(), "shipping_method": "standard"}))
                .send()
                .await
                .expect("send");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut counts = std::collections::BTreeMap::new();
    for t in tasks {
        let (status, body) = t.await.expect("join");
        if status == 409 {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("used up"),
                "{body}"
            );
        }
        *counts.entry(status).or_insert(0) += 1;
    }
    println!("redemption race: 50 attempts, {counts:?}");
    assert_eq!(counts.get(&201), Some(&5), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&45), "{counts:?}");
    assert_eq!(redeemed(&app.db, "FIRST5").await, 5);
    assert_eq!(
        stock(&app.db, MUG).await,
        before - 5,
        "the refused reserve nothing"
    );
    let (orders, uses): (i64, i64) = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM orders) AS "o!", (SELECT count(*) FROM promotion_redemptions) AS "r!""#
    )
    .fetch_one(&app.db)
    .await
    .map(|r| (r.o, r.r))
    .expect("counts");
    assert_eq!((orders, uses), (5, 5));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_or_expired_order_gives_its_use_back_exactly_once(db: PgPool) {
    let (app, admin) = shop(db, &[("ORDER_HOLD_SECS", "1")]).await;
    assert_eq!(
        create(
            &app,
            &admin,
            json!({"code": "TWICE", "kind": "percent", "value": 1000, "usage_limit": 2})
        )
        .await
        .0,
        201
    );
    let mut ids = Vec::new();
    for key in ["a", "b"] {
        let mut s = Shopper::new(&app);
        s.add(MUG, 1).await;
        assert_eq!(apply(&mut s, "twice").await.0, 200);
        let (status, placed) = s.checkout(key, guest_checkout()).await;
        assert_eq!(status, 201, "{placed}");
        ids.push(placed["order_id"].as_str().expect("id").to_owned());
    }
    assert_eq!(redeemed(&app.db, "TWICE").await, 2);
    let mut late = Shopper::new(&app);
    late.add(MUG, 1).await;
    assert_eq!(apply(&mut late, "twice").await.0, 422, "used up");

    // The merchant cancels one: its use comes back; cancelling again changes nothing.
    let cancel = format!("/api/admin/orders/{}/cancel", ids[0]);
    assert_eq!(app.call("POST", &cancel, &admin, None).await.0, 200);
    assert_eq!(app.call("POST", &cancel, &admin, None).await.0, 409);
    assert_eq!(redeemed(&app.db, "TWICE").await, 1);

    // The other expires unpaid: its use comes back once, however many workers run.
    sqlx::query!("UPDATE orders SET payment_session = NULL, payment_url = NULL, expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .expect("overdue");
    let a = domain::orders::Orders::new(app.db.clone(), Default::default(), Default::default());
    let b = a.clone();
    let (x, y) = tokio::join!(a.expire_unpaid(), b.expire_unpaid());
    assert_eq!(x.expect("a") + y.expect("b"), 1);
    assert_eq!(a.expire_unpaid().await.expect("again"), 0);
    assert_eq!(redeemed(&app.db, "TWICE").await, 0);
    let released: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM promotion_redemptions WHERE released_at IS NOT NULL"#
    )
    .fetch_one(&app.db)
    .await
    .expect("released");
    assert_eq!(released, 2);
    assert_eq!(apply(&mut late, "twice").await.0, 200, "usable again");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_per_customer_limit_holds_for_a_signed_in_shopper_and_for_a_guest_email(db: PgPool) {
    let (app, admin) = shop(db, &[]).await;
    assert_eq!(
        create(
            &app,
            &admin,
            json!({"code": "WELCOME", "kind": "percent", "value": 1000, "per_customer_limit": 1})
        )
        .await
        .0,
        201
    );
    app.signup("ann@example.com", PASSWORD).await;
    let cookie = app.login("ann@example.com", PASSWORD).await;
    let mut ann = Shopper::new(&app);
    ann.cookie = Some(cookie);
    ann.add(MUG, 1).await;
    assert_eq!(apply(&mut ann, "welcome").await.0, 200);
    let body = json!({"shipping_address": address(), "shipping_method": "standard"});
    assert_eq!(ann.checkout("first", body.clone()).await.0, 201);
    ann.add(MUG, 1).await;
    let (status, refused) = apply(&mut ann, "welcome").await;
    assert_eq!(status, 422, "{refused}");

    // A guest using the same email is the same customer at checkout.
    let mut guest = Shopper::new(&app);
    guest.add(MUG, 1).await;
    assert_eq!(
        apply(&mut guest, "welcome").await.0,
        200,
        "a guest is known only at checkout"
    );
    let (status, body) = guest
        .checkout(
            "g",
            json!({"email": "ANN@example.com", "shipping_address": address(), "shipping_method": "standard"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("as often as it allows"));
    assert_eq!(redeemed(&app.db, "WELCOME").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn without_javascript_the_code_forms_post_and_the_pages_show_the_discount(db: PgPool) {
    let (app, admin) = shop(db, &[]).await;
    assert_eq!(
        create(
            &app,
            &admin,
            json!({"code": "TEN", "kind": "percent", "value": 1000})
        )
        .await
        .0,
        201
    );
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 2).await;
    let cookie = ann.cookie.clone().expect("cookie");
    let res = app
        .post_form(
            "/rpc/cart/discount/apply",
            &cookie,
            &[("code", "ten"), ("from", "/checkout")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 302);
    assert_eq!(res.headers()["location"], "/checkout");
    let (_, page) = {
        let res = app.get_with_cookie("/cart", &cookie).await;
        (res.status().as_u16(), res.text().await.expect("html"))
    };
    assert!(
        page.contains(r#"data-testid="discount-code">TEN<"#),
        "{page}"
    );
    assert!(page.contains("Discount (TEN)"), "{page}");
    assert!(page.contains("Remove code"), "{page}");
    let checkout = app
        .get_with_cookie("/checkout", &cookie)
        .await
        .text()
        .await
        .expect("html");
    assert!(checkout.contains("Discount (TEN)"), "{checkout}");
    let res = app
        .post_form("/rpc/cart/discount/remove", &cookie, &[("from", "/cart")])
        .await;
    assert_eq!(res.status().as_u16(), 302);
    assert_eq!(res.headers()["location"], "/cart");
    assert_eq!(ann.cart().await["discount"], Value::Null);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_demo_seed_offers_a_welcome_code_once_per_customer(db: PgPool) {
    let (app, admin) = shop(db, &[]).await;
    let (status, code) = app
        .call("GET", "/api/admin/promotions/welcome10", &admin, None)
        .await;
    assert_eq!(status, 200, "{code}");
    assert_eq!(
        (&code["label"], &code["per_customer_limit"], &code["active"]),
        (&json!("10% off"), &json!(1), &json!(true))
    );
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 1).await;
    assert_eq!(apply(&mut ann, "Welcome10").await.0, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_says_a_value_is_basis_points_or_a_money(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let (status, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    let schemas = &doc["components"]["schemas"];
    // The seed's WELCOME10 answers `"value": 1000`: a response must fit its own schema.
    let value = &schemas["PromotionValue"];
    let kinds: Vec<String> = value["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{value}"))
        .iter()
        .map(|v| {
            v["type"]
                .as_str()
                .or(v["$ref"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["integer", "#/components/schemas/Money"], "{value}");
    for schema in ["Promotion", "PromotionInput", "PromotionPatch"] {
        let field = schemas[schema]["properties"]["value"].to_string();
        assert!(
            field.contains("#/components/schemas/PromotionValue"),
            "{schema}: {field}"
        );
    }
}
