//! Payments: the dev provider end to end, webhook verification and its inbox, events out
//! of order, reconciliation, and the Stripe adapter against a local double of Stripe's API.

use crate::common::shop::{guest_checkout, pay, session_of, set_stock, stock, Shopper, MUG};
use crate::common::{spawn_with, TestApp};
use domain::payments::{signature, wire, Payments};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

const SECRET: &str = server::config::DEV_WEBHOOK_SECRET;

async fn app(db: PgPool) -> TestApp {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    app
}

/// A guest buys two mugs; answers the checkout JSON.
async fn place_order(app: &TestApp) -> Value {
    buy(&mut Shopper::new(app)).await
}

async fn buy(shopper: &mut Shopper<'_>) -> Value {
    assert_eq!(shopper.add(MUG, 2).await.0, 200);
    let (status, placed) = shopper
        .checkout(&uuid::Uuid::new_v4().to_string(), guest_checkout())
        .await;
    assert_eq!(status, 201, "{placed}");
    placed
}

async fn order_status(db: &PgPool, id: &str) -> String {
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    sqlx::query_scalar!("SELECT status FROM orders WHERE id = $1", id)
        .fetch_one(db)
        .await
        .expect("status")
}

async fn review_reason(db: &PgPool, id: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    sqlx::query_scalar!("SELECT review_reason FROM orders WHERE id = $1", id)
        .fetch_one(db)
        .await
        .expect("review")
}

async fn status_changes(db: &PgPool, id: &str, to: &str) -> i64 {
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM order_status_changes WHERE order_id = $1 AND to_status = $2"#,
        id,
        to
    )
    .fetch_one(db)
    .await
    .expect("changes")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A signed Stripe-format event about the dev session `session` of `placed`.
fn session_event(
    placed: &Value,
    session: &str,
    kind: &str,
    status: &str,
    paid: bool,
    amount: i64,
) -> String {
    let order_id = placed["order_id"].as_str().expect("order id");
    let object = wire::checkout_session(&wire::SessionFields {
        id: session,
        order_id,
        amount_total: amount,
        currency: "usd",
        customer_email: "guest@example.com",
        status,
        payment_status: if paid { "paid" } else { "unpaid" },
        payment_intent: paid.then_some("pi_test_1"),
        url: None,
        success_url: "http://localhost/s",
        cancel_url: "http://localhost/c",
        created: now(),
        expires_at: now() + 1800,
    });
    wire::event(
        &format!("evt_{}", uuid::Uuid::new_v4().simple()),
        kind,
        object,
        now(),
    )
    .to_string()
}

async fn deliver(app: &TestApp, body: &str, header: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/payments/webhook"))
        .header("content-type", "application/json")
        .header("stripe-signature", header)
        .body(body.to_owned())
        .send()
        .await
        .expect("webhook");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn deliver_signed(app: &TestApp, body: &str) -> (u16, Value) {
    deliver(
        app,
        body,
        &signature::header(SECRET, now(), body.as_bytes()),
    )
    .await
}

fn total(placed: &Value) -> i64 {
    placed["total"]["amount"].as_i64().expect("total")
}

#[sqlx::test(migrations = "../migrations")]
async fn paying_with_4242_on_the_dev_page_makes_the_order_paid_and_sends_one_confirmation(
    db: PgPool,
) {
    let app = app(db).await;
    let mut guest = Shopper::new(&app);
    let placed = buy(&mut guest).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);

    let (status, page) = app.get_html(&format!("/dev/pay/{session}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("name=\"card_number\""),
        "the hosted page has a card form"
    );

    let res = pay(&app, &session, "4242 4242 4242 4242").await;
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(to.ends_with(&format!("/checkout/success/{id}")), "{to}");

    // The signed event reached our webhook; the outbox settles the order.
    assert_eq!(order_status(&app.db, &id).await, "pending_payment");
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");
    assert_eq!(
        stock(&app.db, MUG).await,
        8,
        "the reservation is kept, not released"
    );
    app.drain_outbox().await;
    let mails = app.mailbox("guest@example.com").await;
    let confirmations = mails
        .iter()
        .filter(|m| m["subject"] == "Your Bazaar order is confirmed")
        .count();
    assert_eq!(confirmations, 1);

    // The guest's own session sees the new status on the success page.
    let cookie = guest.cookie.clone().expect("guest cookie");
    let page = app
        .get_with_cookie(&format!("/checkout/success/{id}"), &cookie)
        .await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"data-status="paid""#), "{html}");
    assert!(html.contains("Your payment was received"));
    // The page cannot be paid twice.
    assert_eq!(
        pay(&app, &session, "4242424242424242")
            .await
            .status()
            .as_u16(),
        409
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_declined_card_leaves_the_order_payable_and_a_retry_succeeds(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);

    let res = pay(&app, &session, "4000000000000002").await;
    assert_eq!(res.status().as_u16(), 402);
    assert!(res.text().await.expect("page").contains("declined"));
    let uuid = uuid::Uuid::parse_str(&id).expect("uuid");
    let error = sqlx::query_scalar!("SELECT payment_error FROM orders WHERE id = $1", uuid)
        .fetch_one(&app.db)
        .await
        .expect("error");
    assert_eq!(error.as_deref(), Some("Your card was declined."));
    assert_eq!(order_status(&app.db, &id).await, "pending_payment");

    // A typo is a clear 422, not a decline.
    assert_eq!(
        pay(&app, &session, "4242424242424241")
            .await
            .status()
            .as_u16(),
        422
    );

    assert_eq!(
        pay(&app, &session, "4242424242424242")
            .await
            .status()
            .as_u16(),
        303
    );
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");
}

#[sqlx::test(migrations = "../migrations")]
async fn webhooks_with_a_wrong_secret_a_stale_timestamp_or_a_tampered_body_get_400(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let session = session_of(&placed);
    let body = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );

    let wrong = signature::header("whsec_not_ours", now(), body.as_bytes());
    let stale = signature::header(SECRET, now() - 301, body.as_bytes());
    let signed = signature::header(SECRET, now(), body.as_bytes());
    let tampered = body.replace("\"paid\"", "\"unpaid\"");
    for (body, header) in [
        (body.as_str(), wrong.as_str()),
        (body.as_str(), stale.as_str()),
        (tampered.as_str(), signed.as_str()),
        (body.as_str(), ""),
    ] {
        let (status, error) = deliver(&app, body, header).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["error"]["code"], "bad_request");
    }
    let events: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM webhook_events"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(events, 0, "refused deliveries leave no trace");
    assert_eq!(deliver(&app, &body, &signed).await.0, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn one_event_delivered_ten_times_at_once_changes_the_order_once_and_mails_once(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    let body = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );

    let app = std::sync::Arc::new(app);
    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let (app, body) = (app.clone(), body.clone());
            tokio::spawn(async move { deliver_signed(&app, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for d in deliveries {
        answers.push(d.await.expect("join"));
    }
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let processed = answers
        .iter()
        .filter(|(_, b)| b["outcome"] == "paid")
        .count();
    let duplicates = answers
        .iter()
        .filter(|(_, b)| b["duplicate"] == true)
        .count();
    assert_eq!((processed, duplicates), (1, 9));

    app.drain_outbox().await;
    // A redelivery of the outbox event itself must not repeat anything either.
    sqlx::query!("UPDATE outbox SET status = 'pending', available_at = now() WHERE topic = 'payment_succeeded'")
        .execute(&app.db)
        .await
        .expect("replay");
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");
    assert_eq!(status_changes(&app.db, &id, "paid").await, 1);
    let mails = app.mailbox("guest@example.com").await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m["subject"] == "Your Bazaar order is confirmed")
            .count(),
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expiry_arriving_after_the_payment_changes_nothing(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    let paid = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );
    let expired = session_event(
        &placed,
        &session,
        "checkout.session.expired",
        "expired",
        false,
        total(&placed),
    );

    assert_eq!(deliver_signed(&app, &paid).await.0, 200);
    // The expiry lands before the outbox has even settled the payment.
    let (status, answer) = deliver_signed(&app, &expired).await;
    assert_eq!(status, 200);
    assert_eq!(answer["outcome"], "ignored: the order is already paid");
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");
    assert_eq!(stock(&app.db, MUG).await, 8, "the stock stays sold");
    assert_eq!(review_reason(&app.db, &id).await, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_payment_arriving_after_the_expiry_stays_cancelled_and_is_flagged_for_refund(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    let expired = session_event(
        &placed,
        &session,
        "checkout.session.expired",
        "expired",
        false,
        total(&placed),
    );
    let paid = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );

    assert_eq!(
        deliver_signed(&app, &expired).await.1["outcome"],
        "cancelled"
    );
    assert_eq!(stock(&app.db, MUG).await, 10, "the reservation is released");
    // Someone else buys the released stock.
    set_stock(&app.db, MUG, 0).await;

    let (status, answer) = deliver_signed(&app, &paid).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["outcome"],
        format!("flagged: {}", domain::payments::REFUND_DUE)
    );
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "cancelled");
    assert_eq!(
        stock(&app.db, MUG).await,
        0,
        "nothing was taken twice: no oversell"
    );
    assert_eq!(
        review_reason(&app.db, &id).await.as_deref(),
        Some(domain::payments::REFUND_DUE)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_payment_for_the_wrong_amount_is_flagged_for_review_not_marked_paid(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    let short = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed) - 1,
    );

    let (status, answer) = deliver_signed(&app, &short).await;
    assert_eq!(status, 200);
    assert!(
        answer["outcome"]
            .as_str()
            .expect("outcome")
            .starts_with("flagged: payment of"),
        "{answer}"
    );
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "pending_payment");
    assert!(review_reason(&app.db, &id).await.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn reconciliation_heals_a_payment_whose_webhook_was_lost(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    // The provider took the money, but the event never arrived.
    sqlx::query!(
        "UPDATE dev_payment_sessions SET status = 'complete', payment_status = 'paid' WHERE id = $1",
        session
    )
    .execute(&app.db)
    .await
    .expect("paid at the provider");

    let payments = payments_of(&app);
    assert_eq!(
        payments
            .reconcile(Duration::from_secs(3600))
            .await
            .expect("reconcile"),
        0,
        "too young to ask about"
    );
    assert_eq!(
        payments.reconcile(Duration::ZERO).await.expect("reconcile"),
        1
    );
    assert_eq!(
        payments.reconcile(Duration::ZERO).await.expect("reconcile"),
        0,
        "healed once"
    );
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_order_past_its_hold_closes_its_session_and_releases_stock(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off"), ("ORDER_HOLD_SECS", "1")]).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let orders =
        domain::orders::Orders::new(app.db.clone(), Default::default(), Default::default());
    assert_eq!(
        payments_of(&app)
            .expire_overdue(&orders)
            .await
            .expect("expire"),
        1
    );
    assert_eq!(order_status(&app.db, &id).await, "cancelled");
    assert_eq!(stock(&app.db, MUG).await, 10);
    assert_eq!(
        pay(&app, &session, "4242424242424242")
            .await
            .status()
            .as_u16(),
        409,
        "a closed session takes no money"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_refund_reported_by_the_provider_moves_the_order_to_refunded(db: PgPool) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    assert_eq!(
        pay(&app, &session_of(&placed), "4242424242424242")
            .await
            .status()
            .as_u16(),
        303
    );
    app.drain_outbox().await;
    let uuid = uuid::Uuid::parse_str(&id).expect("uuid");
    let intent = sqlx::query_scalar!(
        r#"SELECT payment_intent AS "pi!" FROM orders WHERE id = $1"#,
        uuid
    )
    .fetch_one(&app.db)
    .await
    .expect("intent");

    payments_of(&app)
        .provider()
        .refund(&intent, total(&placed), &format!("refund-{id}"))
        .await
        .expect("refund");
    assert_eq!(order_status(&app.db, &id).await, "refunded");
}

/// The app's own payment service, on its database and dev provider.
fn payments_of(app: &TestApp) -> Payments {
    let port = app.base.rsplit(':').next().expect("port");
    let provider = domain::payments::Provider::Dev(domain::payments::dev::DevProvider::new(
        app.db.clone(),
        format!("http://127.0.0.1:{port}/api/payments/webhook"),
        SECRET.to_owned(),
    ));
    Payments::new(
        app.db.clone(),
        provider,
        vec![SECRET.to_owned()],
        &app.base,
        Duration::from_secs(1800),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn the_dev_pages_are_not_served_in_production(db: PgPool) {
    let app = spawn_with(db, crate::common::PRODUCTION_ENV).await;
    assert_eq!(
        app.get("/dev/pay/cs_dev_anything").await.status().as_u16(),
        404
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn webhook_secrets_can_be_rotated_by_listing_two(db: PgPool) {
    let app = spawn_with(
        db,
        &[
            ("OUTBOX_WORKER", "off"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_new_one, whsec_old_one"),
        ],
    )
    .await;
    let body =
        json!({"id": "evt_rot", "type": "customer.created", "data": {"object": {}}}).to_string();
    for secret in ["whsec_new_one", "whsec_old_one"] {
        let header = signature::header(secret, now(), body.as_bytes());
        let (status, _) = deliver(&app, &body, &header).await;
        assert_eq!(status, 200);
    }
    let header = signature::header(SECRET, now(), body.as_bytes());
    assert_eq!(
        deliver(&app, &body, &header).await.0,
        400,
        "the dev secret is not in force"
    );
}

mod stripe_double {
    //! A local stand-in for Stripe's API: it records what it receives and answers in
    //! Stripe's wire format, or with the failures a test asks for.

    use axum::{
        extract::State,
        http::{HeaderMap, StatusCode},
        response::IntoResponse,
        routing::post,
        Json, Router,
    };
    use domain::payments::wire;
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// What the double should do with the next requests.
    #[derive(Clone, Debug)]
    pub enum Plan {
        Ok,
        ServerError,
        CardError,
        Slow(Duration),
    }

    #[derive(Clone, Default)]
    pub struct Double {
        pub seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
        pub plans: Arc<Mutex<Vec<Plan>>>,
        /// The create body of every session opened, by session id.
        pub sessions: Arc<Mutex<std::collections::HashMap<String, String>>>,
        /// The session id of every expire call, in order.
        pub expired: Arc<Mutex<Vec<String>>>,
    }

    impl Double {
        /// Answers with `plans` in order, then `Ok`.
        pub fn plan(&self, plans: &[Plan]) {
            *self.plans.lock().expect("lock") = plans.iter().rev().cloned().collect();
        }

        pub fn seen(&self) -> Vec<(HeaderMap, String)> {
            self.seen.lock().expect("lock").clone()
        }

        pub async fn serve(&self) -> String {
            let app = Router::new()
                .route("/v1/checkout/sessions", post(create))
                .route("/v1/refunds", post(refund))
                .route("/v1/checkout/sessions/{id}/expire", post(expire))
                .with_state(self.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move { axum::serve(listener, app).await });
            format!("http://{addr}")
        }

        async fn next(&self, headers: HeaderMap, body: String) -> Option<axum::response::Response> {
            self.seen.lock().expect("lock").push((headers, body));
            let plan = self.plans.lock().expect("lock").pop().unwrap_or(Plan::Ok);
            match plan {
                Plan::Ok => None,
                Plan::ServerError => Some(
                    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}})))
                        .into_response(),
                ),
                Plan::CardError => Some(
                    (StatusCode::PAYMENT_REQUIRED, Json(json!({"error": {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}})))
                        .into_response(),
                ),
                Plan::Slow(d) => {
                    tokio::time::sleep(d).await;
                    None
                }
            }
        }
    }

    /// The form field `key` of an `application/x-www-form-urlencoded` body.
    pub fn field(body: &str, key: &str) -> Option<String> {
        url_decode(body)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn url_decode(body: &str) -> Vec<(String, String)> {
        body.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect()
    }

    fn decode(s: &str) -> String {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    async fn create(
        State(d): State<Double>,
        headers: HeaderMap,
        body: String,
    ) -> axum::response::Response {
        if let Some(failure) = d.next(headers, body.clone()).await {
            return failure;
        }
        let order_id = field(&body, "metadata[order_id]").unwrap_or_default();
        let id = format!("cs_test_{}", order_id.replace('-', ""));
        d.sessions
            .lock()
            .expect("lock")
            .insert(id.clone(), body.clone());
        session(&id, &body, "open")
    }

    /// Stripe's answer for the session `id` opened with `body`, in `status`.
    fn session(id: &str, body: &str, status: &str) -> axum::response::Response {
        let order_id = field(body, "metadata[order_id]").unwrap_or_default();
        let url = format!("https://checkout.stripe.com/c/pay/{id}");
        let amount: i64 = (0..10)
            .filter_map(|i| {
                let unit: i64 = field(body, &format!("line_items[{i}][price_data][unit_amount]"))?
                    .parse()
                    .ok()?;
                let qty: i64 = field(body, &format!("line_items[{i}][quantity]"))?
                    .parse()
                    .ok()?;
                Some(unit * qty)
            })
            .sum();
        Json(wire::checkout_session(&wire::SessionFields {
            id,
            order_id: &order_id,
            amount_total: amount,
            currency: &field(body, "line_items[0][price_data][currency]").unwrap_or_default(),
            customer_email: &field(body, "customer_email").unwrap_or_default(),
            status,
            payment_status: "unpaid",
            payment_intent: None,
            url: Some(&url),
            success_url: &field(body, "success_url").unwrap_or_default(),
            cancel_url: &field(body, "cancel_url").unwrap_or_default(),
            created: 1_700_000_000,
            expires_at: field(body, "expires_at")
                .and_then(|e| e.parse().ok())
                .unwrap_or_default(),
        }))
        .into_response()
    }

    /// Expires an open session, slowly enough that passes on several replicas would overlap.
    async fn expire(
        State(d): State<Double>,
        axum::extract::Path(id): axum::extract::Path<String>,
        headers: HeaderMap,
    ) -> axum::response::Response {
        d.expired.lock().expect("lock").push(id.clone());
        if let Some(failure) = d.next(headers, format!("expire {id}")).await {
            return failure;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let body = d.sessions.lock().expect("lock").get(&id).cloned();
        match body {
            Some(body) => session(&id, &body, "expired"),
            None => (StatusCode::NOT_FOUND, Json(json!({"error": {"type": "invalid_request_error", "message": "No such checkout.session"}}))).into_response(),
        }
    }

    async fn refund(
        State(d): State<Double>,
        headers: HeaderMap,
        body: String,
    ) -> axum::response::Response {
        if let Some(failure) = d.next(headers, body.clone()).await {
            return failure;
        }
        let amount: i64 = field(&body, "amount")
            .and_then(|a| a.parse().ok())
            .unwrap_or_default();
        Json(json!({
            "id": "re_test_1", "object": "refund", "amount": amount, "created": 1_700_000_000,
            "currency": "usd", "payment_intent": field(&body, "payment_intent"), "status": "succeeded", "metadata": {}
        }))
        .into_response()
    }
}

use stripe_double::{field, Double, Plan};

const DOUBLE_SECRET: &str = "whsec_test_double";

async fn stripe_app(db: PgPool, double: &str) -> TestApp {
    let app = spawn_with(
        db,
        &[
            ("OUTBOX_WORKER", "off"),
            ("STRIPE_SECRET_KEY", "sk_test_bazaar"),
            ("STRIPE_API_BASE", double),
            ("STRIPE_TIMEOUT_MS", "300"),
            ("STRIPE_WEBHOOK_SECRET", DOUBLE_SECRET),
        ],
    )
    .await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    app
}

#[sqlx::test(migrations = "../migrations")]
async fn checkout_opens_a_stripe_session_with_our_amounts_metadata_and_idempotency_key(db: PgPool) {
    let double = Double::default();
    let app = stripe_app(db, &double.serve().await).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id");
    assert_eq!(
        placed["payment_url"],
        format!(
            "https://checkout.stripe.com/c/pay/cs_test_{}",
            id.replace('-', "")
        )
    );

    let seen = double.seen();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(headers["authorization"], "Bearer sk_test_bazaar");
    assert_eq!(
        headers["idempotency-key"].to_str().expect("key"),
        format!("bazaar-checkout-{id}")
    );
    assert_eq!(field(body, "mode").as_deref(), Some("payment"));
    assert_eq!(field(body, "metadata[order_id]").as_deref(), Some(id));
    assert_eq!(
        field(body, "payment_intent_data[metadata][order_id]").as_deref(),
        Some(id)
    );
    assert_eq!(field(body, "client_reference_id").as_deref(), Some(id));
    assert_eq!(
        field(body, "line_items[0][price_data][currency]").as_deref(),
        Some("usd")
    );
    assert_eq!(field(body, "line_items[0][quantity]").as_deref(), Some("2"));
    let unit: i64 = sqlx::query_scalar!("SELECT price_amount FROM variants WHERE sku = $1", MUG)
        .fetch_one(&app.db)
        .await
        .expect("price");
    assert_eq!(
        field(body, "line_items[0][price_data][unit_amount]"),
        Some(unit.to_string())
    );
    assert_eq!(
        field(body, "line_items[1][price_data][product_data][name]").as_deref(),
        Some("Shipping")
    );
    let charged: i64 = (0..2)
        .map(|i| {
            let unit: i64 = field(body, &format!("line_items[{i}][price_data][unit_amount]"))
                .expect("unit")
                .parse()
                .expect("int");
            let qty: i64 = field(body, &format!("line_items[{i}][quantity]"))
                .expect("qty")
                .parse()
                .expect("int");
            unit * qty
        })
        .sum();
    assert_eq!(charged, total(&placed), "Stripe charges exactly our total");
    let expires: i64 = field(body, "expires_at")
        .expect("expiry")
        .parse()
        .expect("int");
    assert!(
        expires >= now() + 30 * 60,
        "inside Stripe's accepted window"
    );
    assert!(field(body, "success_url")
        .expect("success")
        .ends_with(&format!("/checkout/success/{id}")));
}

#[sqlx::test(migrations = "../migrations")]
async fn stripe_5xx_answers_are_retried_with_the_same_idempotency_key(db: PgPool) {
    let double = Double::default();
    let app = stripe_app(db, &double.serve().await).await;
    double.plan(&[Plan::ServerError, Plan::ServerError]);
    let placed = place_order(&app).await;
    assert!(placed["payment_url"]
        .as_str()
        .expect("url")
        .starts_with("https://checkout.stripe.com/"));
    let keys: Vec<String> = double
        .seen()
        .iter()
        .map(|(h, _)| h["idempotency-key"].to_str().expect("key").to_owned())
        .collect();
    assert_eq!(keys.len(), 3, "two failures, then success");
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "one key for every attempt: {keys:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stripe_outage_or_timeout_is_a_clean_503_and_the_same_key_later_gets_the_same_order(
    db: PgPool,
) {
    let double = Double::default();
    let app = stripe_app(db, &double.serve().await).await;
    let slow = Plan::Slow(Duration::from_millis(800));
    double.plan(&[slow.clone(), slow.clone(), slow]);
    let mut shopper = Shopper::new(&app);
    assert_eq!(shopper.add(MUG, 1).await.0, 200);
    let (status, error) = shopper.checkout("retry-me", guest_checkout()).await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["error"]["code"], "internal");
    assert!(error["error"]["message"]
        .as_str()
        .expect("message")
        .contains("Your order is saved"));

    let (status, placed) = shopper.checkout("retry-me", guest_checkout()).await;
    assert_eq!(status, 201, "{placed}");
    assert!(placed["payment_url"]
        .as_str()
        .expect("url")
        .starts_with("https://checkout.stripe.com/"));
    let orders: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM orders"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(orders, 1);
    assert_eq!(stock(&app.db, MUG).await, 9, "reserved once");
}

#[tokio::test]
async fn stripe_card_errors_surface_as_declines_and_are_not_retried() {
    let double = Double::default();
    let base = double.serve().await;
    let stripe = domain::payments::stripe::StripeProvider::new(
        "sk_test_bazaar",
        Some(&base),
        Duration::from_secs(2),
    )
    .expect("client");
    let provider = domain::payments::Provider::Stripe(Box::new(stripe));
    double.plan(&[Plan::CardError]);
    let err = provider
        .refund("pi_123", 500, "refund-1")
        .await
        .expect_err("declined");
    assert_eq!(
        err,
        domain::payments::PaymentError::Declined("Your card was declined.".to_owned())
    );
    assert_eq!(double.seen().len(), 1, "a card error is final");

    let refund = provider
        .refund("pi_123", 500, "refund-2")
        .await
        .expect("refund");
    assert_eq!(refund, "re_test_1");
    let (headers, body) = double.seen().pop().expect("request");
    assert_eq!(headers["idempotency-key"], "refund-2");
    assert_eq!(field(&body, "payment_intent").as_deref(), Some("pi_123"));
    assert_eq!(field(&body, "amount").as_deref(), Some("500"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_double_clicked_refund_calls_stripe_exactly_once(db: PgPool) {
    let double = Double::default();
    let app = stripe_app(db, &double.serve().await).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = format!("cs_test_{}", id.replace('-', ""));
    let paid = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );
    let header = signature::header(DOUBLE_SECRET, now(), paid.as_bytes());
    assert_eq!(deliver(&app, &paid, &header).await.1["outcome"], "paid");
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");

    let admin = app.admin("boss@example.com").await;
    let app = std::sync::Arc::new(app);
    let clicks: Vec<_> = (0..2)
        .map(|_| {
            let (app, admin, id) = (app.clone(), admin.clone(), id.clone());
            tokio::spawn(async move {
                app.call(
                    "POST",
                    &format!("/api/admin/orders/{id}/refund"),
                    &admin,
                    None,
                )
                .await
                .0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for c in clicks {
        statuses.push(c.await.expect("join"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "one refund, one 'already under way'");
    let refunds: Vec<_> = double
        .seen()
        .into_iter()
        .filter(|(_, body)| field(body, "mode").is_none())
        .collect();
    assert_eq!(refunds.len(), 1, "Stripe was asked once");
    let refund_id: uuid::Uuid = sqlx::query_scalar!(
        "SELECT id FROM refunds WHERE order_id = $1",
        uuid::Uuid::parse_str(&id).expect("uuid")
    )
    .fetch_one(&app.db)
    .await
    .expect("the refund is recorded");
    assert_eq!(
        refunds[0].0["idempotency-key"].to_str().expect("key"),
        format!("bazaar-refund-{refund_id}")
    );
    assert_eq!(
        field(&refunds[0].1, "payment_intent").as_deref(),
        Some("pi_test_1")
    );
    assert_eq!(order_status(&app.db, &id).await, "refunded");
    // Later clicks are refused by the status machine, still without calling Stripe.
    assert_eq!(
        app.call(
            "POST",
            &format!("/api/admin/orders/{id}/refund"),
            &admin,
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(double.seen().len(), 2, "one session, one refund");
}

#[sqlx::test(migrations = "../migrations")]
async fn three_replicas_close_each_overdue_session_with_one_provider_call(db: PgPool) {
    let double = Double::default();
    let base = double.serve().await;
    let env = [
        ("STRIPE_SECRET_KEY", "sk_test_bazaar"),
        ("STRIPE_API_BASE", base.as_str()),
        ("STRIPE_TIMEOUT_MS", "2000"),
        ("STRIPE_WEBHOOK_SECRET", DOUBLE_SECRET),
        ("ORDER_HOLD_SECS", "1"),
    ];
    // Every replica runs its background jobs, as in the Deployment.
    let first = spawn_with(db.clone(), &env).await;
    crate::common::seed(&first.db, &first.media_dir, 3).await;
    set_stock(&first.db, MUG, 10).await;
    let _second = spawn_with(db.clone(), &env).await;
    let _third = spawn_with(db.clone(), &env).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let placed = place_order(&first).await;
        ids.push(placed["order_id"].as_str().expect("id").to_owned());
    }
    let cancelled = async {
        loop {
            let mut done = 0;
            for id in &ids {
                done += usize::from(order_status(&db, id).await == "cancelled");
            }
            if done == ids.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), cancelled)
        .await
        .expect("every overdue order is cancelled by some replica");
    // Passes after the cancellations find nothing due; give one more round a chance.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let expired = double.expired.lock().expect("lock").clone();
    assert_eq!(
        expired.len(),
        ids.len(),
        "one expire call per order: {expired:?}"
    );
    let mut distinct = expired.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "no session closed twice");
    assert_eq!(stock(&db, MUG).await, 10, "every reservation released once");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_overdue_order_whose_session_cannot_be_closed_keeps_its_stock_until_stripe_confirms(
    db: PgPool,
) {
    let double = Double::default();
    let base = double.serve().await;
    // The background jobs run (they do only with the outbox worker on), as in a replica.
    let app = spawn_with(
        db,
        &[
            ("STRIPE_SECRET_KEY", "sk_test_bazaar"),
            ("STRIPE_API_BASE", base.as_str()),
            ("STRIPE_TIMEOUT_MS", "300"),
            ("STRIPE_WEBHOOK_SECRET", DOUBLE_SECRET),
            ("ORDER_HOLD_SECS", "1"),
        ],
    )
    .await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let held = stock(&app.db, MUG).await;
    assert!(held < 10, "the order holds stock");

    // Stripe is down: every expire call fails, so the session may still be paid.
    double.plan(&vec![Plan::ServerError; 1000]);
    let tried = async {
        while double.expired.lock().expect("lock").len() < 6 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), tried)
        .await
        .expect("the payment loop keeps trying to close the session");
    assert_eq!(order_status(&app.db, &id).await, "pending_payment");
    assert_eq!(
        stock(&app.db, MUG).await,
        held,
        "nothing released while payable"
    );

    // Stripe is back: the next pass closes the session, then cancels and releases.
    double.plan(&[]);
    let cancelled = async {
        while order_status(&app.db, &id).await != "cancelled" {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), cancelled)
        .await
        .expect("cancelled once Stripe confirmed the session closed");
    assert_eq!(stock(&app.db, MUG).await, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refund_reported_before_its_payment_and_a_dead_settlement_are_healed_by_reconciliation(
    db: PgPool,
) {
    let app = app(db).await;
    let placed = place_order(&app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = session_of(&placed);
    // The refund's event overtakes the payment's.
    let charge = json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_test_1",
                        "refunded": true, "amount_refunded": total(&placed)});
    let refunded = wire::event("evt_refund_first", "charge.refunded", charge, now()).to_string();
    let (status, answer) = deliver_signed(&app, &refunded).await;
    assert_eq!(status, 200);
    assert!(
        answer["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("deferred")),
        "{answer}"
    );
    let paid = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );
    assert_eq!(deliver_signed(&app, &paid).await.1["outcome"], "paid");
    // The settlement dies (say the mail server was down for hours).
    sqlx::query!("UPDATE outbox SET status = 'dead', attempts = 8, last_error = 'smtp down' WHERE topic = 'payment_succeeded'")
        .execute(&app.db)
        .await
        .expect("dead");
    app.drain_outbox().await;
    assert_eq!(
        order_status(&app.db, &id).await,
        "pending_payment",
        "stranded"
    );

    let payments = payments_of(&app);
    assert!(
        payments
            .reconcile(Duration::from_secs(3600))
            .await
            .expect("reconcile")
            >= 1
    );
    app.drain_outbox().await;
    assert_eq!(
        order_status(&app.db, &id).await,
        "paid",
        "the dead settlement ran again"
    );
    assert_eq!(
        payments
            .reconcile(Duration::from_secs(3600))
            .await
            .expect("reconcile"),
        1
    );
    assert_eq!(
        order_status(&app.db, &id).await,
        "refunded",
        "the early refund applied late"
    );
    let outcome: String =
        sqlx::query_scalar!("SELECT outcome FROM webhook_events WHERE id = 'evt_refund_first'")
            .fetch_one(&app.db)
            .await
            .expect("outcome");
    assert!(outcome.ends_with("(applied late)"), "{outcome}");
    assert_eq!(
        payments
            .reconcile(Duration::from_secs(3600))
            .await
            .expect("reconcile"),
        0,
        "nothing is applied twice"
    );
}

async fn paid_stripe_order(app: &TestApp) -> String {
    let placed = place_order(app).await;
    let id = placed["order_id"].as_str().expect("id").to_owned();
    let session = format!("cs_test_{}", id.replace('-', ""));
    let paid = session_event(
        &placed,
        &session,
        "checkout.session.completed",
        "complete",
        true,
        total(&placed),
    );
    let header = signature::header(DOUBLE_SECRET, now(), paid.as_bytes());
    assert_eq!(deliver(app, &paid, &header).await.1["outcome"], "paid");
    app.drain_outbox().await;
    assert_eq!(order_status(&app.db, &id).await, "paid");
    id
}

async fn wait_for_status(db: &PgPool, id: &str, want: &str, within: Duration) {
    let reached = async {
        while order_status(db, id).await != want {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(within, reached)
        .await
        .unwrap_or_else(|_| panic!("the order did not become {want} within {within:?}"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refund_that_outlasts_its_request_or_meets_an_outage_completes_by_itself(db: PgPool) {
    let double = Double::default();
    let base = double.serve().await;
    // Stripe's timeout is longer than the admin's request waits, as in production; the
    // background jobs run, as in a replica.
    let app = spawn_with(
        db,
        &[
            ("STRIPE_SECRET_KEY", "sk_test_bazaar"),
            ("STRIPE_API_BASE", base.as_str()),
            ("STRIPE_TIMEOUT_MS", "10000"),
            ("STRIPE_WEBHOOK_SECRET", DOUBLE_SECRET),
        ],
    )
    .await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    let admin = app.admin("boss@example.com").await;

    // A slow provider: the request answers 202 in time, and the refund lands after it.
    let slow = paid_stripe_order(&app).await;
    double.plan(&[Plan::Slow(Duration::from_secs(7))]);
    let started = std::time::Instant::now();
    let (status, order) = app
        .call(
            "POST",
            &format!("/api/admin/orders/{slow}/refund"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        (status, order["status"].as_str()),
        (202, Some("paid")),
        "{order}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "answered in {:?}",
        started.elapsed()
    );
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/admin/orders/{slow}/refund"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 409, "a second click while it runs");
    wait_for_status(&app.db, &slow, "refunded", Duration::from_secs(10)).await;

    // An outage: every call fails until Stripe is back; the payment loop retries.
    let down = paid_stripe_order(&app).await;
    let held = stock(&app.db, MUG).await;
    double.plan(&vec![Plan::ServerError; 3]);
    let (status, order) = app
        .call(
            "POST",
            &format!("/api/admin/orders/{down}/cancel"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        (status, order["status"].as_str()),
        (202, Some("paid")),
        "{order}"
    );
    wait_for_status(&app.db, &down, "cancelled", Duration::from_secs(20)).await;
    assert!(
        stock(&app.db, MUG).await > held,
        "the cancel released the order's stock"
    );

    let uuid = uuid::Uuid::parse_str(&down).expect("uuid");
    let refund = sqlx::query!(
        r#"SELECT id, status, attempts FROM refunds WHERE order_id = $1"#,
        uuid
    )
    .fetch_one(&app.db)
    .await
    .expect("refund");
    assert_eq!(refund.status, "succeeded");
    assert!(refund.attempts >= 2, "retried: {}", refund.attempts);
    let keys: Vec<String> = double
        .seen()
        .into_iter()
        .filter(|(_, body)| {
            field(body, "payment_intent").is_some() && field(body, "mode").is_none()
        })
        .filter_map(|(h, _)| {
            h.get("idempotency-key")
                .and_then(|k| k.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|k| k.ends_with(&refund.id.to_string()))
        .collect();
    assert!(
        keys.len() >= 4,
        "every try used the refund's one key: {keys:?}"
    );
}
