//! Cart, checkout and orders: correctness under concurrency, idempotency, expiry, and
//! Redis outages.

use crate::common::shop::{address, guest_checkout, set_stock, stock, Shopper, MUG};
use crate::common::{spawn_seeded, spawn_sharing};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

use crate::common::PASSWORD;
#[sqlx::test(migrations = "../migrations")]
async fn a_guest_cart_is_priced_from_the_catalog_and_keyed_by_session(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    assert_eq!(ann.cart().await["item_count"], 0);
    let (status, cart) = ann.add(MUG, 2).await;
    assert_eq!(status, 200);
    assert!(
        ann.cookie.is_some(),
        "a guest gets a session on first use of the cart"
    );
    let price: i64 = sqlx::query_scalar!("SELECT price_amount FROM variants WHERE sku = $1", MUG)
        .fetch_one(&app.db)
        .await
        .expect("price");
    assert_eq!(cart["items"][0]["unit_price"]["amount"], price);
    assert_eq!(cart["items"][0]["line_total"]["amount"], price * 2);
    assert_eq!(
        (
            cart["subtotal"]["amount"].as_i64(),
            cart["item_count"].as_i64()
        ),
        (Some(price * 2), Some(2))
    );
    let (_, again) = ann.add(MUG, 3).await;
    assert_eq!(again["items"][0]["quantity"], 5, "adding again adds up");
    // Another shopper has another cart.
    let mut bob = Shopper::new(&app);
    assert_eq!(bob.cart().await["item_count"], 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_cart_input_is_refused_and_changes_nothing(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 5).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 1).await;
    for (sku, qty, expected) in [
        ("NO-SUCH-SKU", 1, 404),
        ("bad sku!", 1, 404),
        (MUG, 0, 422),
        (MUG, -1, 422),
        (MUG, 100, 422),
        (MUG, 5, 409),
    ] {
        let (status, body) = ann.add(sku, qty).await;
        assert_eq!(status, expected, "{sku} x{qty}: {body}");
        assert!(body["error"]["message"].is_string());
    }
    let (status, body) = ann
        .send(
            app.client
                .post(app.url("/api/cart/items"))
                .json(&json!({"sku": MUG, "quantity": "two"})),
        )
        .await;
    assert_eq!(status, 422, "a mistyped field is a field error: {body}");
    assert!(body["error"]["fields"]["quantity"].is_array(), "{body}");
    let cart = ann.cart().await;
    assert_eq!(cart["items"][0]["quantity"], 1, "nothing changed");

    let patch = |q: Value| {
        app.client
            .patch(app.url(&format!("/api/cart/items/{MUG}")))
            .json(&json!({"quantity": q}))
    };
    assert_eq!(ann.send(patch(json!(100))).await.0, 422);
    assert_eq!(ann.send(patch(json!(6))).await.0, 409);
    let (status, cart) = ann.send(patch(json!(3))).await;
    assert_eq!(
        (status, cart["items"][0]["quantity"].as_i64()),
        (200, Some(3))
    );
    let (status, cart) = ann.send(patch(json!(0))).await;
    assert_eq!(
        (status, cart["item_count"].as_i64()),
        (200, Some(0)),
        "0 removes the line"
    );
    ann.add(MUG, 1).await;
    let (status, cart) = ann
        .send(
            app.client
                .delete(app.url(&format!("/api/cart/items/{MUG}"))),
        )
        .await;
    assert_eq!((status, cart["item_count"].as_i64()), (200, Some(0)));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_price_change_after_adding_is_shown_and_charged(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 2).await;
    sqlx::query!(
        "UPDATE variants SET price_amount = 1234 WHERE sku = $1",
        MUG
    )
    .execute(&app.db)
    .await
    .expect("reprice");
    let cart = ann.cart().await;
    assert_eq!(
        cart["items"][0]["unit_price"]["amount"], 1234,
        "the cart shows the new price before placing"
    );
    let (status, order) = ann.checkout("k1", guest_checkout()).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(
        order["total"]["amount"],
        1234 * 2 + 500,
        "charged at the new price plus standard shipping"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_cart_merges_into_the_user_cart_on_login(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    set_stock(&app.db, "CLASSIC-T-SHIRT-M", 10).await;
    app.signup("ann@example.com", PASSWORD).await;
    // Ann already has a mug in her account's cart.
    let mut signed_in = Shopper::new(&app);
    signed_in.cookie = Some(app.login("ann@example.com", PASSWORD).await);
    signed_in.add(MUG, 1).await;

    let mut guest = Shopper::new(&app);
    guest.add(MUG, 2).await;
    guest.add("CLASSIC-T-SHIRT-M", 1).await;
    let req = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD}));
    let (status, _) = guest.send(req).await;
    assert_eq!(status, 200);
    let cart = guest.cart().await;
    let qty = |sku: &str| {
        cart["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|l| l["sku"] == sku)
            .map(|l| l["quantity"].clone())
    };
    assert_eq!(qty(MUG), Some(json!(3)), "quantities add up");
    assert_eq!(qty("CLASSIC-T-SHIRT-M"), Some(json!(1)));
    assert_eq!(
        signed_in.cart().await["item_count"],
        4,
        "it is the account's cart, on every device"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn checkout_places_a_pending_order_reserves_stock_and_empties_the_cart(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 3).await;
    let (status, order) = ann.checkout("order-1", guest_checkout()).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "pending_payment");
    assert!(order["payment_url"]
        .as_str()
        .expect("url")
        .starts_with("/dev/pay/"));
    assert_eq!(stock(&app.db, MUG).await, 7);
    assert_eq!(ann.cart().await["item_count"], 0);
    let topics: Vec<String> = sqlx::query_scalar!("SELECT topic FROM outbox")
        .fetch_all(&app.db)
        .await
        .expect("outbox");
    assert!(topics.contains(&"order_created".to_owned()));
    let line = sqlx::query!("SELECT quantity, unit_amount FROM order_lines")
        .fetch_one(&app.db)
        .await
        .expect("line");
    assert_eq!(line.quantity, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn checkout_refuses_bad_requests_with_clear_errors(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    let (status, _) = ann.checkout("empty", guest_checkout()).await;
    assert_eq!(status, 400, "an empty cart");
    ann.add(MUG, 1).await;
    let no_key = app
        .client
        .post(app.url("/api/checkout"))
        .json(&guest_checkout());
    assert_eq!(ann.send(no_key).await.0, 400, "no Idempotency-Key");
    let long_key = "k".repeat(256);
    assert_eq!(ann.checkout(&long_key, guest_checkout()).await.0, 400);
    let (status, body) = ann
        .checkout("bad", json!({"shipping_address": {"name": "", "line1": "x", "city": "y", "postal_code": "1", "country": "USA"}, "shipping_method": "teleport"}))
        .await;
    assert_eq!(status, 422, "{body}");
    for field in [
        "email",
        "shipping_address.name",
        "shipping_address.country",
        "shipping_method",
    ] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
    let orders: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM orders"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(orders, 0);
    assert_eq!(stock(&app.db, MUG).await, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_short_line_is_a_409_naming_it_and_reserves_nothing(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 5).await;
    set_stock(&app.db, "CLASSIC-T-SHIRT-M", 5).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 2).await;
    ann.add("CLASSIC-T-SHIRT-M", 4).await;
    set_stock(&app.db, "CLASSIC-T-SHIRT-M", 1).await; // sold elsewhere meanwhile
    let (status, body) = ann.checkout("k", guest_checkout()).await;
    assert_eq!(status, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("CLASSIC-T-SHIRT-M"),
        "{body}"
    );
    assert_eq!(
        (
            stock(&app.db, MUG).await,
            stock(&app.db, "CLASSIC-T-SHIRT-M").await
        ),
        (5, 1),
        "nothing reserved"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn two_hundred_concurrent_checkouts_for_ten_units_sell_exactly_ten(db: PgPool) {
    let app = Arc::new(spawn_seeded(db).await);
    set_stock(&app.db, MUG, 200).await;
    let mut cookies = Vec::new();
    for _ in 0..200 {
        let mut s = Shopper::new(&app);
        assert_eq!(s.add(MUG, 1).await.0, 200);
        cookies.push(s.cookie.expect("cookie"));
    }
    set_stock(&app.db, MUG, 10).await;
    let start = Arc::new(tokio::sync::Barrier::new(200));
    let mut tasks = Vec::new();
    for (i, cookie) in cookies.into_iter().enumerate() {
        let (app, start) = (app.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            app.client
                .post(app.url("/api/checkout"))
                .header("cookie", cookie)
                .header("idempotency-key", format!("race-{i}"))
                .json(&guest_checkout())
                .send()
                .await
                .expect("send")
                .status()
                .as_u16()
        }));
    }
    let mut counts = std::collections::BTreeMap::new();
    for t in tasks {
        *counts.entry(t.await.expect("join")).or_insert(0) += 1;
    }
    assert_eq!(counts.get(&201), Some(&10), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&190), "{counts:?}");
    assert_eq!(
        stock(&app.db, MUG).await,
        0,
        "never negative, nothing left over"
    );
    let orders: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM orders"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(orders, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_same_idempotency_key_twenty_times_at_once_places_one_order(db: PgPool) {
    let app = Arc::new(spawn_seeded(db).await);
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 2).await;
    let cookie = ann.cookie.clone().expect("cookie");
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, start, cookie) = (app.clone(), start.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let res = app
                .client
                .post(app.url("/api/checkout"))
                .header("cookie", cookie)
                .header("idempotency-key", "double-click")
                .json(&guest_checkout())
                .send()
                .await
                .expect("send");
            (
                res.status().as_u16(),
                res.json::<Value>().await.expect("json"),
            )
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.expect("join");
        assert_eq!(status, 201, "{body}");
        ids.insert(body["order_id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1, "one order for one key");
    assert_eq!(stock(&app.db, MUG).await, 8, "reserved once");
    let orders: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM orders"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(orders, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_reservation_returns_stock_once_even_with_two_workers(db: PgPool) {
    let app = spawn_sharing(
        db,
        &[("OUTBOX_WORKER", "off"), ("ORDER_HOLD_SECS", "1")],
        &format!("test:{}:", uuid::Uuid::new_v4()),
    )
    .await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 4).await;
    assert_eq!(ann.checkout("k", guest_checkout()).await.0, 201);
    assert_eq!(stock(&app.db, MUG).await, 6);
    // As if the provider was down at checkout: an order with a payment session is only
    // cancelled once the provider confirms it closed, which is the payments' job.
    sqlx::query!("UPDATE orders SET payment_session = NULL, payment_url = NULL")
        .execute(&app.db)
        .await
        .expect("no session");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let a = domain::orders::Orders::new(app.db.clone(), Default::default(), Default::default());
    let b = a.clone();
    let (x, y) = tokio::join!(a.expire_unpaid(), b.expire_unpaid());
    assert_eq!(x.expect("a") + y.expect("b"), 1, "one worker expires it");
    assert_eq!(a.expire_unpaid().await.expect("again"), 0);
    assert_eq!(stock(&app.db, MUG).await, 10, "stock back exactly once");
    let status: String = sqlx::query_scalar!("SELECT status FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(status, "cancelled");
}

#[sqlx::test(migrations = "../migrations")]
async fn orders_are_private_to_their_owner(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    app.signup("ann@example.com", PASSWORD).await;
    app.signup("bob@example.com", PASSWORD).await;
    let mut ann = Shopper::new(&app);
    ann.cookie = Some(app.login("ann@example.com", PASSWORD).await);
    let bob = app.login("bob@example.com", PASSWORD).await;
    ann.add(MUG, 1).await;
    let (status, placed) = ann
        .checkout(
            "k",
            json!({"shipping_address": address(), "shipping_method": "express"}),
        )
        .await;
    assert_eq!(
        status, 201,
        "a signed-in shopper's email comes from the account: {placed}"
    );
    let id = placed["order_id"].as_str().expect("id");
    let (status, list) = ann.send(app.client.get(app.url("/api/orders"))).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));
    let (status, order) = ann
        .send(app.client.get(app.url(&format!("/api/orders/{id}"))))
        .await;
    assert_eq!(status, 200);
    for key in [
        "id",
        "status",
        "lines",
        "subtotal",
        "shipping",
        "tax",
        "total",
        "created_at",
    ] {
        assert!(order.get(key).is_some(), "{key}");
    }
    assert_eq!(order["shipping"]["amount"], 1500);
    assert_eq!(
        app.get_with_cookie(&format!("/api/orders/{id}"), &bob)
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        app.get(&format!("/api/orders/{id}"))
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.get_with_cookie("/api/orders/not-a-uuid", &bob)
            .await
            .status()
            .as_u16(),
        404
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_status_machine_refuses_illegal_moves_with_409(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 2).await;
    let (_, placed) = ann.checkout("k", guest_checkout()).await;
    let id = placed["order_id"].as_str().expect("id");
    let orders =
        domain::orders::Orders::new(app.db.clone(), Default::default(), Default::default());
    use types::OrderStatus::*;
    assert_eq!(
        orders
            .transition(id, Shipped, "test")
            .await
            .expect_err("unpaid")
            .status(),
        409
    );
    assert_eq!(
        orders
            .transition(id, Delivered, "test")
            .await
            .expect_err("unpaid")
            .status(),
        409
    );
    orders
        .transition(id, Cancelled, "shopper asked")
        .await
        .expect("cancel");
    assert_eq!(
        stock(&app.db, MUG).await,
        10,
        "cancelling gives the stock back"
    );
    assert_eq!(
        orders
            .transition(id, Paid, "late payment")
            .await
            .expect_err("cancelled")
            .status(),
        409
    );
    assert_eq!(
        orders
            .transition(id, Cancelled, "again")
            .await
            .expect_err("twice")
            .status(),
        409
    );
    assert_eq!(stock(&app.db, MUG).await, 10, "and only once");
    assert_eq!(
        orders
            .transition("not-an-id", Paid, "x")
            .await
            .expect_err("unknown")
            .status(),
        404
    );
}

/// A TCP relay to the real Redis that the test can cut and restore, like a network
/// partition between the app and Redis.
struct Relay {
    port: u16,
    up: Arc<std::sync::atomic::AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: connection refused in effect
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut redis) = tokio::net::TcpStream::connect("127.0.0.1:6379").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut redis).await;
                    }
                });
                links2.lock().expect("lock").push(link);
            }
        });
        Relay { port, up, links }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("lock").drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn when_redis_goes_away_browsing_works_carts_say_try_again_and_all_recovers(db: PgPool) {
    let relay = Relay::start().await;
    let redis_url = format!("redis://127.0.0.1:{}", relay.port);
    let app = spawn_sharing(
        db,
        &[("REDIS_URL", &redis_url), ("OUTBOX_WORKER", "off")],
        &format!("test:{}:", uuid::Uuid::new_v4()),
    )
    .await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    assert_eq!(ann.add(MUG, 1).await.0, 200);

    relay.cut();
    let (status, body) = ann.add(MUG, 1).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "internal");
    assert!(body["error"]["message"]
        .as_str()
        .expect("message")
        .contains("try again"));
    assert_eq!(
        app.get("/api/catalog/products").await.status().as_u16(),
        200,
        "browsing works from Postgres"
    );
    assert_eq!(
        app.get("/products/classic-mug").await.status().as_u16(),
        200
    );
    assert_eq!(app.get("/ready").await.status().as_u16(), 503);

    relay.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if ann.add(MUG, 1).await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the cart recovers by itself when Redis returns");
    assert_eq!(
        ann.cart().await["items"][0]["quantity"],
        2,
        "and nothing was lost"
    );
    assert_eq!(app.get("/ready").await.status().as_u16(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_checkout_missing_the_city_is_422_naming_it_and_writes_nothing(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 1).await;
    let mut body = guest_checkout();
    body["shipping_address"]
        .as_object_mut()
        .expect("an address")
        .remove("city");
    let (status, answer) = ann.checkout("no-city", body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "validation");
    assert!(
        answer["error"]["fields"]["shipping_address.city"].is_array(),
        "{answer}"
    );
    let orders: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM orders"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(orders, 0);
    assert_eq!(stock(&app.db, MUG).await, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_total_past_i64_is_a_409_that_writes_nothing_and_admin_prices_are_bounded(db: PgPool) {
    let app = spawn_seeded(db).await;
    set_stock(&app.db, MUG, 10).await;
    let mut ann = Shopper::new(&app);
    assert_eq!(ann.add(MUG, 3).await.0, 200);
    // A price from before the bound existed: three of them do not fit in an i64.
    sqlx::query!(
        "UPDATE variants SET price_amount = $2 WHERE sku = $1",
        MUG,
        i64::MAX / 2
    )
    .execute(&app.db)
    .await
    .expect("a huge legacy price");
    let req = app.client.get(app.url("/api/cart"));
    let (status, body) = ann.send(req).await;
    assert_eq!(status, 409, "the cart: {body}");
    let (status, body) = ann.checkout("huge-1", guest_checkout()).await;
    assert_eq!(status, 409, "the checkout: {body}");
    let orders: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM orders"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(
        (orders, stock(&app.db, MUG).await),
        (0, 10),
        "nothing written"
    );

    let admin = app.admin("boss@example.com").await;
    let price = |amount: i64| json!({"variants": [{"sku": MUG, "name": "Standard", "price": {"amount": amount, "currency": "USD"}}]});
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/classic-mug",
            &admin,
            Some(price(100_000_001)),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["variants[0].price"].is_array(),
        "{body}"
    );
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/classic-mug",
            &admin,
            Some(price(100_000_000)),
        )
        .await;
    assert_eq!(status, 200, "the bound itself is a price: {body}");
}

/// A guest order of one mug, for placing through the domain directly.
fn mug_order(key: &str) -> domain::orders::PlaceOrder {
    domain::orders::PlaceOrder {
        scope: format!("guest:{key}"),
        user_id: None,
        email: types::Email::parse("guest@example.com").expect("email"),
        address: serde_json::from_value(address()).expect("address"),
        method: types::ShippingMethod::Standard,
        idempotency_key: types::IdempotencyKey::parse(key).expect("key"),
        lines: vec![types::CartLine {
            sku: types::Sku::parse(MUG).expect("sku"),
            quantity: types::Quantity::new(1).expect("quantity"),
        }],
        discount_code: None,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_checkout_commits_without_notifying_and_the_announcer_tells_every_replica_after(
    db: PgPool,
) {
    // No outbox worker: its own writes would notify while this listens.
    let app = crate::common::spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 100).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.db)
        .await
        .expect("listener");
    listener
        .listen_all(["bazaar_cache", "bazaar_outbox"])
        .await
        .expect("listen");
    // Placed with an announcer nobody sends for, the order's own commit is silent: a
    // NOTIFY there would queue every checkout behind one lock.
    let silent =
        domain::orders::Orders::new(app.db.clone(), Default::default(), Default::default());
    let placed = silent.place(&mug_order("silent-1")).await.expect("placed");
    assert!(placed.created);
    assert_eq!(stock(&app.db, MUG).await, 99);
    let heard = tokio::time::timeout(Duration::from_millis(500), listener.recv()).await;
    assert!(heard.is_err(), "the checkout's commit notified: {heard:?}");

    // Through the app, whose announcer runs, the cache and the relay hear of it at once.
    let mut ann = Shopper::new(&app);
    ann.add(MUG, 1).await;
    assert_eq!(ann.checkout("k", guest_checkout()).await.0, 201);
    let mut channels = std::collections::BTreeSet::new();
    while channels.len() < 2 {
        let note = tokio::time::timeout(Duration::from_secs(1), listener.recv())
            .await
            .expect("announced within a second")
            .expect("notification");
        channels.insert(note.channel().to_owned());
    }
    assert_eq!(
        channels.into_iter().collect::<Vec<_>>(),
        ["bazaar_cache", "bazaar_outbox"]
    );

    // Any other write still notifies at commit, plain SQL included.
    set_stock(&app.db, MUG, 50).await;
    let note = tokio::time::timeout(Duration::from_secs(1), listener.recv())
        .await
        .expect("a stock edit notifies")
        .expect("notification");
    assert_eq!(note.channel(), "bazaar_cache");
}
