//! The event relay against real brokers: a NATS server with JetStream that each test owns,
//! and SQS on the moto stand-in. Consumers see exactly the outbox's events, in order per
//! aggregate, through a checkout, a payment, an admin edit, a broker outage and two
//! replicas relaying at once.

use crate::common::brokers::{self, NatsServer, Proxy};
use crate::common::shop::paid_order;
use crate::common::{seed, spawn_with, TestApp, PASSWORD};
use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

async fn relaying_app(db: PgPool, bus: &str) -> TestApp {
    let app = spawn_with(db, &[("EVENT_BUS_URL", bus), ("OUTBOX_WORKER", "on")]).await;
    seed(&app.db, &app.media_dir, 2).await;
    app
}

/// Waits until every event written so far is marked relayed; answers how long that took.
async fn all_relayed(db: &PgPool, within: Duration) -> Duration {
    let later = db_now(db).await + time::Duration::days(365);
    caught_up(db, later, within).await
}

/// Another pool on the test's database, as a second replica or a busy writer would have:
/// the test's own pool is small.
async fn own_pool(db: &PgPool) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with((*db.connect_options()).clone())
        .await
        .expect("pool")
}

/// Waits until no event written before `since` (the database's clock) is left to relay;
/// answers how long that took.
async fn caught_up(db: &PgPool, since: time::OffsetDateTime, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let left = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM outbox WHERE relayed_at IS NULL AND created_at < $1"#,
            since
        )
        .fetch_one(db)
        .await
        .expect("backlog");
        if left == 0 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{left} events from the outage still not relayed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn db_now(db: &PgPool) -> time::OffsetDateTime {
    sqlx::query_scalar!(r#"SELECT now() AS "now!""#)
        .fetch_one(db)
        .await
        .expect("now")
}

/// What the outbox holds, as consumers should see it: (id, topic, data without secrets).
async fn written(db: &PgPool) -> Vec<(i64, String, Value)> {
    sqlx::query!(r#"SELECT id, topic, payload - 'secret' AS "data!" FROM outbox ORDER BY id"#)
        .fetch_all(db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| (r.id, r.topic, r.data))
        .collect()
}

fn envelope_parts(envelope: &Value) -> (i64, String, Value) {
    (
        envelope["id"].as_i64().expect("id"),
        envelope["topic"].as_str().expect("topic").to_owned(),
        envelope["data"].clone(),
    )
}

/// Asserts each aggregate's events arrived in the order they were written.
fn in_order_per_aggregate(delivered: &[(String, i64)]) {
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (aggregate, id) in delivered {
        if let Some(before) = last.insert(aggregate, *id) {
            assert!(
                before < *id,
                "{aggregate}: event {id} arrived after {before}"
            );
        }
    }
}

fn aggregate_of(envelope: &Value) -> String {
    domain::events::Envelope {
        id: 0,
        topic: envelope["topic"].as_str().unwrap_or_default().to_owned(),
        time: String::new(),
        data: envelope["data"].clone(),
    }
    .aggregate()
}

/// A shopper buys and pays, another signs up and asks for a password reset, and the
/// merchant edits a product: every one of those writes outbox events.
async fn shop_day(app: &TestApp) {
    paid_order(app).await;
    app.signup("ann@example.com", PASSWORD).await;
    let reset = app
        .client
        .post(app.url("/rpc/accounts/password/forgot"))
        .form(&[("email", "ann@example.com")])
        .send()
        .await
        .expect("reset");
    assert!(reset.status().as_u16() < 400, "{}", reset.status());
    let admin = app.admin("boss@example.com").await;
    let (status, edited) = app
        .call(
            "PATCH",
            "/api/admin/products/classic-mug",
            &admin,
            Some(json!({"name": "Classic Mug, Blue"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
}

/// Writes `n` product events in their own transactions, cycling over `aggregates` products
/// of writer `who`'s own. One writer per product, as the product's row lock makes it in the
/// shop: so id order is commit order within each product.
async fn traffic(db: PgPool, who: usize, n: usize, aggregates: usize, pause: Duration) {
    for i in 0..n {
        let mut tx = db.begin().await.expect("tx");
        domain::outbox::enqueue(
            &mut tx,
            domain::outbox::topics::PRODUCT_UPDATED,
            json!({"slug": format!("w{who}-product-{}", i % aggregates), "change": "updated", "n": i}),
        )
        .await
        .expect("event");
        tx.commit().await.expect("commit");
        tokio::time::sleep(pause).await;
    }
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}

#[sqlx::test(migrations = "../migrations")]
async fn a_nats_consumer_sees_every_event_of_a_checkout_a_payment_and_an_admin_edit_in_order(
    db: PgPool,
) {
    let nats = NatsServer::start().await;
    let app = relaying_app(db, &nats.url()).await;
    shop_day(&app).await;
    all_relayed(&app.db, Duration::from_secs(30)).await;

    let expected = written(&app.db).await;
    let topics: HashSet<&str> = expected.iter().map(|(_, t, _)| t.as_str()).collect();
    for topic in [
        "order_created",
        "payment_succeeded",
        "user_created",
        "password_reset_requested",
        "product_updated",
    ] {
        assert!(topics.contains(topic), "the day wrote {topic}: {topics:?}");
    }
    let stream = nats.stream().await;
    let delivered: Vec<(i64, String, Value)> =
        stream.iter().map(|(_, _, e)| envelope_parts(e)).collect();
    assert_eq!(
        delivered, expected,
        "exactly the events written, in the order written"
    );
    for (id, subject, envelope) in &stream {
        assert_eq!(
            id,
            &envelope["id"].to_string(),
            "Nats-Msg-Id is the event id"
        );
        assert_eq!(
            subject,
            &format!("bazaar.events.{}", envelope["topic"].as_str().unwrap_or(""))
        );
        assert!(
            envelope["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{envelope}"
        );
        assert!(
            envelope["data"].get("secret").is_none(),
            "no reset secret leaves the shop"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn killing_nats_for_ten_seconds_under_traffic_loses_nothing_and_the_backlog_shows(
    db: PgPool,
) {
    let mut nats = NatsServer::start().await;
    let app = relaying_app(db, &nats.url()).await;
    let writers = own_pool(&app.db).await;
    let writer = tokio::spawn(traffic(writers, 0, 1_400, 7, Duration::from_millis(10)));

    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.kill();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let during = app.get("/metrics").await.text().await.expect("metrics");
    let backlog = metric(&during, "bazaar_event_relay_backlog").expect("the backlog gauge");
    assert!(
        backlog > 0.0,
        "events wait while the broker is down: {backlog}"
    );
    assert_eq!(
        metric(&during, "bazaar_event_relay_up"),
        Some(0.0),
        "the relay reports the broker down"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.resume().await;
    let back = db_now(&app.db).await;
    let recovery = caught_up(&app.db, back, Duration::from_secs(30)).await;
    eprintln!("relay caught up {recovery:?} after the broker came back");
    writer.await.expect("traffic");
    all_relayed(&app.db, Duration::from_secs(60)).await;

    let expected = written(&app.db).await;
    let stream = nats.stream().await;
    let ids: Vec<i64> = stream.iter().map(|(_, _, e)| envelope_parts(e).0).collect();
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no event stored twice");
    let want: HashSet<i64> = expected.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(unique, want, "every event written reached the stream");
    let delivered: Vec<(String, i64)> = stream
        .iter()
        .map(|(_, _, e)| (aggregate_of(e), envelope_parts(e).0))
        .collect();
    in_order_per_aggregate(&delivered);
    let after = app.get("/metrics").await.text().await.expect("metrics");
    assert_eq!(metric(&after, "bazaar_event_relay_backlog"), Some(0.0));
    assert_eq!(metric(&after, "bazaar_event_relay_up"), Some(1.0));
}

#[sqlx::test(migrations = "../migrations")]
async fn two_replicas_relaying_at_once_publish_one_payload_per_id_and_skip_nothing(db: PgPool) {
    let nats = NatsServer::start().await;
    // Every publish, duplicates included, as a plain subscriber sees it.
    let mut seen = nats
        .client()
        .await
        .subscribe("bazaar.events.>")
        .await
        .expect("subscribe");
    let first = relaying_app(db, &nats.url()).await;
    let _second = spawn_with(
        own_pool(&first.db).await,
        &[("EVENT_BUS_URL", &nats.url()), ("OUTBOX_WORKER", "on")],
    )
    .await;
    let pool = own_pool(&first.db).await;
    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(traffic(pool.clone(), w, 150, 5, Duration::from_millis(2))))
        .collect();
    for w in writers {
        w.await.expect("traffic");
    }
    // moto answers each batch of 10 slowly; a loaded machine needs the margin.
    all_relayed(&first.db, Duration::from_secs(90)).await;

    let mut payloads: HashMap<String, HashSet<Vec<u8>>> = HashMap::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), seen.next()).await {
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .expect("id header");
        payloads.entry(id).or_default().insert(m.payload.to_vec());
    }
    let expected = written(&first.db).await;
    assert_eq!(payloads.len(), expected.len(), "every event was published");
    assert!(
        payloads.values().all(|p| p.len() == 1),
        "an id never carried two payloads"
    );
    let stream = nats.stream().await;
    // Writers commit out of id order across products, so only the set is compared here.
    let mut ids: Vec<i64> = stream.iter().map(|(_, _, e)| envelope_parts(e).0).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        expected.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
        "the stream holds each event once, none skipped"
    );
    let delivered: Vec<(String, i64)> = stream
        .iter()
        .map(|(_, _, e)| (aggregate_of(e), envelope_parts(e).0))
        .collect();
    in_order_per_aggregate(&delivered);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_sqs_consumer_sees_every_event_of_a_checkout_a_payment_and_an_admin_edit_in_order(
    db: PgPool,
) {
    brokers::use_aws(&brokers::aws_endpoint());
    let (queue, url) = brokers::create_fifo_queue().await;
    let app = relaying_app(db, &format!("sqs://{queue}")).await;
    shop_day(&app).await;
    // Generous: moto answers slowly when the suite has the cores busy.
    all_relayed(&app.db, Duration::from_secs(90)).await;

    let expected = written(&app.db).await;
    let received = brokers::drain_queue(&url).await;
    let mut by_group: HashMap<String, Vec<(i64, String, Value)>> = HashMap::new();
    for (dedup, group, envelope) in &received {
        assert_eq!(
            dedup,
            &envelope["id"].to_string(),
            "the de-duplication id is the event id"
        );
        assert_eq!(
            group,
            &aggregate_of(envelope),
            "the message group is the aggregate"
        );
        assert!(
            envelope["data"].get("secret").is_none(),
            "no reset secret leaves the shop"
        );
        by_group
            .entry(group.clone())
            .or_default()
            .push(envelope_parts(envelope));
    }
    // FIFO order holds per message group; across groups SQS may interleave.
    let mut want: HashMap<String, Vec<(i64, String, Value)>> = HashMap::new();
    for (id, topic, data) in expected {
        let envelope = json!({"topic": topic, "data": data});
        want.entry(aggregate_of(&envelope))
            .or_default()
            .push((id, topic, data));
    }
    assert_eq!(
        by_group, want,
        "exactly the events written, in order per aggregate"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_sqs_outage_of_ten_seconds_under_traffic_loses_nothing(db: PgPool) {
    let mut proxy = Proxy::start(brokers::aws_addr()).await;
    brokers::use_aws(&brokers::aws_endpoint());
    let (queue, url) = brokers::create_fifo_queue().await;
    // The relay reaches SQS only through the proxy, which the test takes away.
    std::env::set_var("AWS_ENDPOINT_URL_SQS", proxy.url());
    let app = relaying_app(db, &format!("sqs://{queue}")).await;
    let writers = own_pool(&app.db).await;
    let writer = tokio::spawn(traffic(writers, 0, 600, 7, Duration::from_millis(20)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.pause().await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let during = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metric(&during, "bazaar_event_relay_backlog").unwrap_or(0.0) > 0.0);
    proxy.resume().await;
    let back = db_now(&app.db).await;
    // Generous: moto is a Python server sharing two cores with the rest of the suite.
    let recovery = caught_up(&app.db, back, Duration::from_secs(90)).await;
    eprintln!("relay caught up {recovery:?} after SQS came back");
    writer.await.expect("traffic");
    all_relayed(&app.db, Duration::from_secs(60)).await;

    let expected: HashSet<i64> = written(&app.db)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let received = brokers::drain_queue(&url).await;
    let ids: Vec<i64> = received
        .iter()
        .map(|(_, _, e)| envelope_parts(e).0)
        .collect();
    assert_eq!(
        ids.len(),
        expected.len(),
        "each event once: {} for {}",
        ids.len(),
        expected.len()
    );
    assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), expected);
    let delivered: Vec<(String, i64)> = received
        .iter()
        .map(|(_, g, e)| (g.clone(), envelope_parts(e).0))
        .collect();
    in_order_per_aggregate(&delivered);
}

#[sqlx::test(migrations = "../migrations")]
async fn two_replicas_relaying_to_sqs_skip_nothing_and_duplicate_nothing(db: PgPool) {
    brokers::use_aws(&brokers::aws_endpoint());
    let (queue, url) = brokers::create_fifo_queue().await;
    let bus = format!("sqs://{queue}");
    let first = relaying_app(db, &bus).await;
    let _second = spawn_with(
        own_pool(&first.db).await,
        &[("EVENT_BUS_URL", &bus), ("OUTBOX_WORKER", "on")],
    )
    .await;
    let pool = own_pool(&first.db).await;
    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(traffic(pool.clone(), w, 100, 5, Duration::from_millis(2))))
        .collect();
    for w in writers {
        w.await.expect("traffic");
    }
    // Generous, as above: moto answers slowly when the suite has the cores busy.
    all_relayed(&first.db, Duration::from_secs(90)).await;
    let expected: Vec<i64> = written(&first.db)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let received = brokers::drain_queue(&url).await;
    let mut ids: Vec<i64> = received
        .iter()
        .map(|(_, _, e)| envelope_parts(e).0)
        .collect();
    let delivered: Vec<(String, i64)> = received
        .iter()
        .map(|(_, g, e)| (g.clone(), envelope_parts(e).0))
        .collect();
    in_order_per_aggregate(&delivered);
    ids.sort_unstable();
    assert_eq!(ids, expected, "each event once, none skipped");
}
