//! Operations endpoints and the gateway layers: health, readiness, request ids, limits,
//! sessions on Redis and graceful shutdown.

use crate::common::{spawn_seeded, spawn_with, test_config};
use domain::redis::Redis;
use server::{session_store::RedisSessionStore, Application};
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::time::Duration;
use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};

#[sqlx::test(migrations = "../migrations")]
async fn health_is_ok(db: PgPool) {
    let app = spawn_with(db, &[]).await;
    let (status, body) = app.get_json("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[sqlx::test(migrations = "../migrations")]
async fn ready_reports_postgres_and_redis_ok(db: PgPool) {
    let app = spawn_with(db, &[]).await;
    let (status, body) = app.get_json("/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"postgres": "ok", "redis": "ok"}));
}

#[tokio::test]
async fn ready_is_503_when_postgres_is_unreachable() {
    let unreachable = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .expect("lazy pool");
    let app = spawn_with(unreachable, &[]).await;
    let (status, body) = app.get_json("/ready").await;
    assert_eq!(status, 503);
    assert_eq!(
        (body["postgres"].as_str(), body["redis"].as_str()),
        (Some("error"), Some("ok"))
    );
    assert!(body["error"]["message"]
        .as_str()
        .expect("message")
        .contains("postgres"));
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health").await.status().as_u16(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn ready_is_503_when_redis_is_unreachable(db: PgPool) {
    let media = std::env::temp_dir().join("bazaar-test-unused");
    let config = test_config(&[], &media);
    let redis = Redis::new("redis://127.0.0.1:1", "test:").expect("url");
    let app = Application::build_with(config, db, redis)
        .await
        .expect("builds");
    let port = app.port();
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    let res = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 503);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        (body["postgres"].as_str(), body["redis"].as_str()),
        (Some("ok"), Some("error"))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_catalog_keeps_working_while_redis_is_down(db: PgPool) {
    let media = std::env::temp_dir().join(format!("bazaar-test-{}", uuid::Uuid::new_v4()));
    crate::common::seed(&db, &media, 1).await;
    let config = test_config(&[], &media);
    let redis = Redis::new("redis://127.0.0.1:1", "test:").expect("url");
    let app = Application::build_with(config, db, redis)
        .await
        .expect("builds");
    let port = app.port();
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    let api = reqwest::get(format!("http://127.0.0.1:{port}/api/catalog/products"))
        .await
        .expect("request");
    assert_eq!(api.status().as_u16(), 200);
    let page = reqwest::get(format!("http://127.0.0.1:{port}/products/classic-t-shirt"))
        .await
        .expect("request");
    assert_eq!(page.status().as_u16(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_response_carries_a_request_id_and_keeps_a_given_one(db: PgPool) {
    let app = spawn_with(db, &[]).await;
    let res = app.get("/health").await;
    let id = res
        .headers()
        .get("x-request-id")
        .expect("generated id")
        .to_str()
        .expect("ascii");
    assert_eq!(id.len(), 36, "a UUID");
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
}

#[sqlx::test(migrations = "../migrations")]
async fn oversized_bodies_get_413_with_the_error_shape(db: PgPool) {
    let app = spawn_with(db, &[("BODY_LIMIT_BYTES", "2048")]).await;
    let res = app
        .client
        .post(app.url("/api/catalog/products"))
        .header("content-type", "application/json")
        .body(vec![b'x'; 10_000])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 413);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "bad_request");
}

#[sqlx::test(migrations = "../migrations")]
async fn security_headers_are_set(db: PgPool) {
    let app = spawn_seeded(db).await;
    let res = app.get("/").await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers().contains_key("referrer-policy"));
    assert!(
        res.headers().get("set-cookie").is_none(),
        "browsing does not create sessions"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn shutdown_drains_the_request_in_flight_then_stops(db: PgPool) {
    let media = std::env::temp_dir().join("bazaar-test-unused");
    let config = test_config(&[], &media);
    let redis = Redis::new(&config.redis_url, "test:").expect("url");
    let app = Application::build_with(config, db.clone(), redis)
        .await
        .expect("builds");
    let port = app.port();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_with_shutdown(async move {
        let _ = stop_rx.await;
        server::Stop::Now
    }));
    // Hold a slow request open: /ready waits on a Postgres lock we keep for a moment.
    let mut tx = db.begin().await.expect("tx");
    sqlx::query!("LOCK TABLE categories IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .expect("lock");
    let in_flight = tokio::spawn(async move {
        reqwest::get(format!("http://127.0.0.1:{port}/api/catalog/categories")).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_tx.send(()).expect("signal");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.is_finished(),
        "the server waits for the request in flight"
    );
    tx.rollback().await.expect("unlock");
    let res = in_flight
        .await
        .expect("join")
        .expect("the in-flight request completes");
    assert_eq!(res.status().as_u16(), 200);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops")
        .expect("join")
        .expect("clean exit");
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn redis_session_store_creates_loads_saves_and_deletes() {
    let redis = Redis::new(
        "redis://127.0.0.1:6379",
        format!("test:{}:", uuid::Uuid::new_v4()),
    )
    .expect("url");
    let store = RedisSessionStore::new(redis);
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
    };
    record
        .data
        .insert("cart".into(), serde_json::json!({"items": 2}));
    store.create(&mut record).await.expect("create");
    let loaded = store
        .load(&record.id)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.data["cart"]["items"], 2);
    record
        .data
        .insert("cart".into(), serde_json::json!({"items": 3}));
    store.save(&record).await.expect("save");
    assert_eq!(
        store
            .load(&record.id)
            .await
            .expect("load")
            .expect("present")
            .data["cart"]["items"],
        3
    );
    store.delete(&record.id).await.expect("delete");
    assert!(store.load(&record.id).await.expect("load").is_none());
    assert!(
        store.load(&Id::default()).await.expect("load").is_none(),
        "unknown ids load nothing"
    );
}

#[tokio::test]
async fn redis_session_store_lets_sessions_expire() {
    let redis = Redis::new(
        "redis://127.0.0.1:6379",
        format!("test:{}:", uuid::Uuid::new_v4()),
    )
    .expect("url");
    let store = RedisSessionStore::new(redis);
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::seconds(1),
    };
    store.create(&mut record).await.expect("create");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(store.load(&record.id).await.expect("load").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn seeding_twice_changes_nothing_and_keeps_live_stock(db: PgPool) {
    let media = std::env::temp_dir().join(format!("bazaar-test-{}", uuid::Uuid::new_v4()));
    crate::common::seed(&db, &media, 24).await;
    let count = |db: PgPool| async move {
        sqlx::query!(r#"SELECT (SELECT count(*) FROM categories) AS "c!", (SELECT count(*) FROM products) AS "p!", (SELECT count(*) FROM variants) AS "v!""#)
            .fetch_one(&db)
            .await
            .map(|r| (r.c, r.p, r.v))
            .expect("counts")
    };
    let first = count(db.clone()).await;
    assert!(
        first.0 >= 8 && first.1 >= 200,
        "a real demo store: {first:?}"
    );
    let without_image: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM products WHERE image_url IS NULL"#)
            .fetch_one(&db)
            .await
            .expect("count");
    assert_eq!(without_image, 0);
    sqlx::query!("UPDATE variants SET stock = 7 WHERE sku = 'CLASSIC-MUG-STANDARD'")
        .execute(&db)
        .await
        .expect("sell");
    crate::common::seed(&db, &media, 24).await;
    assert_eq!(count(db.clone()).await, first);
    let stock: i32 =
        sqlx::query_scalar!("SELECT stock FROM variants WHERE sku = 'CLASSIC-MUG-STANDARD'")
            .fetch_one(&db)
            .await
            .expect("stock");
    assert_eq!(stock, 7, "re-seeding never resets live stock");
}

/// The value of one sample in a Prometheus exposition, 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_move_when_traffic_flows(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    let series = r#"bazaar_http_requests_total{method="GET",route="/api/catalog/products/{slug}",status="200"}"#;
    let missing = r#"bazaar_http_requests_total{method="GET",route="/api/catalog/products/{slug}",status="404"}"#;
    let (status, before) = app.get_html("/metrics").await;
    assert_eq!(status, 200);
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/catalog/products/classic-mug")
                .await
                .status()
                .as_u16(),
            200
        );
    }
    assert_eq!(
        app.get("/api/catalog/products/no-such-thing")
            .await
            .status()
            .as_u16(),
        404
    );
    // A checkout with an empty cart fails; a bad webhook signature is counted too.
    let res = app
        .post_json("/api/checkout", serde_json::json!({"email": "a@example.com", "shipping_address": crate::common::shop::address(), "shipping_method": "standard"}), &[("idempotency-key", "k")])
        .await;
    assert!(res.status().is_client_error());
    let res = app
        .post_json(
            "/api/payments/webhook",
            serde_json::json!({}),
            &[("stripe-signature", "t=1,v1=00")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 400);

    let (_, after) = app.get_html("/metrics").await;
    assert_eq!(
        sample(&after, series) - sample(&before, series),
        3.0,
        "{after}"
    );
    assert_eq!(sample(&after, missing) - sample(&before, missing), 1.0);
    let failures = |t: &str| sample(t, r#"bazaar_checkout_failures_total{reason="bad_request"}"#);
    assert_eq!(
        failures(&after) - failures(&before),
        1.0,
        "the empty cart: {after}"
    );
    let signature = |t: &str| {
        sample(
            t,
            r#"bazaar_payment_webhook_failures_total{reason="signature"}"#,
        )
    };
    assert_eq!(signature(&after) - signature(&before), 1.0);
    assert!(after.contains("bazaar_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/catalog/products/{slug}\""));
    assert_eq!(sample(&after, "bazaar_redis_up"), 1.0);
    assert!(sample(&after, "bazaar_db_pool_max_connections") >= 1.0);
    assert!(after.contains("bazaar_outbox_events{status=\"pending\"}"));
    // Unknown paths share one label instead of minting a series each.
    app.get("/no/such/page/123").await;
    let (_, last) = app.get_html("/metrics").await;
    assert!(!last.contains("/no/such/page/123"));
    assert!(last.contains(r#"route="unmatched""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_healthcheck_command_passes_on_a_live_server_and_fails_without_one(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    server::cli::healthcheck(&app.url("/health"))
        .await
        .expect("healthy");
    assert!(server::cli::healthcheck("http://127.0.0.1:1/health")
        .await
        .is_err());
    assert!(
        server::cli::healthcheck(&app.url("/no-such-path"))
            .await
            .is_err(),
        "a 404 is not healthy"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_move_to_their_own_port_and_leave_the_apps(db: PgPool) {
    let media = std::env::temp_dir().join(format!("bazaar-test-{}", uuid::Uuid::new_v4()));
    let config = test_config(
        &[("OUTBOX_WORKER", "off"), ("METRICS_ADDR", "127.0.0.1:0")],
        &media,
    );
    let redis = Redis::new(&config.redis_url, format!("test:{}:", uuid::Uuid::new_v4()))
        .expect("redis url");
    let app = Application::build_with(config, db, redis)
        .await
        .expect("builds");
    let (port, metrics) = (app.port(), app.metrics_port().expect("a metrics port"));
    assert_ne!(port, metrics);
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    let get = |port: u16, path: &'static str| async move {
        let res = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
            .await
            .expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    };
    assert_eq!(get(port, "/health").await.0, 200);
    assert_eq!(
        get(port, "/metrics").await.0,
        404,
        "what the Ingress reaches no longer serves metrics"
    );
    let (status, text) = get(metrics, "/metrics").await;
    assert_eq!(status, 200);
    assert!(text.contains("bazaar_http_requests_total"), "{text}");
    assert!(text.contains("bazaar_outbox_events"), "{text}");
    assert_eq!(
        get(metrics, "/health").await.0,
        404,
        "the metrics port serves metrics only"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_scrape_reads_the_backlog_through_indexes_not_the_tables_history(db: PgPool) {
    let mut tx = db.begin().await.expect("tx");
    sqlx::query!(
        "INSERT INTO outbox (topic, payload, status, processed_at)
         SELECT 'history', '{}'::jsonb, 'done', now() FROM generate_series(1, 20000)"
    )
    .execute(&mut *tx)
    .await
    .expect("history");
    sqlx::query!(
        "INSERT INTO outbox (topic, payload, status, created_at)
         VALUES ('a', '{}', 'pending', now() - interval '90 seconds'), ('b', '{}', 'pending', now()),
                ('c', '{}', 'pending', now()), ('d', '{}', 'dead', now())"
    )
    .execute(&mut *tx)
    .await
    .expect("backlog");
    sqlx::query!("ANALYZE outbox")
        .execute(&mut *tx)
        .await
        .expect("analyze");
    async fn scans(tx: &mut sqlx::PgConnection) -> i64 {
        sqlx::query_scalar!(
            r#"SELECT COALESCE(seq_scan, 0) AS "n!" FROM pg_stat_xact_user_tables WHERE relname = 'outbox'"#
        )
        .fetch_one(tx)
        .await
        .expect("stats")
    }
    let before = scans(&mut tx).await;
    domain::metrics::refresh_outbox(&mut *tx).await;
    assert_eq!(
        scans(&mut tx).await,
        before,
        "a scrape must not scan the outbox's 20,000 delivered events"
    );
    let text = domain::metrics::render();
    assert!(
        text.contains("bazaar_outbox_events{status=\"pending\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("bazaar_outbox_events{status=\"dead\"} 1"),
        "{text}"
    );
    let age = text
        .lines()
        .find_map(|l| l.strip_prefix("bazaar_outbox_oldest_pending_age_seconds "))
        .and_then(|v| v.parse::<i64>().ok())
        .expect("the age gauge");
    assert!(
        (90..120).contains(&age),
        "the oldest pending event's age: {age}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn retention_deletes_only_what_is_past_its_window_and_never_undelivered_events(db: PgPool) {
    sqlx::query!(
        "INSERT INTO outbox (topic, payload, status, processed_at, created_at) VALUES
           ('old-done', '{}', 'done', now() - interval '8 days', now() - interval '8 days'),
           ('new-done', '{}', 'done', now() - interval '6 days', now() - interval '6 days'),
           ('old-pending', '{}', 'pending', NULL, now() - interval '100 days'),
           ('old-dead', '{}', 'dead', NULL, now() - interval '100 days')"
    )
    .execute(&db)
    .await
    .expect("events");
    sqlx::query!(
        "INSERT INTO webhook_events (id, type, outcome, received_at) VALUES
           ('evt_old', 't', 'ok', now() - interval '31 days'), ('evt_new', 't', 'ok', now() - interval '29 days')"
    )
    .execute(&db)
    .await
    .expect("receipts");
    sqlx::query!(
        "INSERT INTO emails (idempotency_key, to_address, subject, body, transport, created_at) VALUES
           ('old', 'a@example.com', 's', 'b', 'dev_mailbox', now() - interval '31 days'),
           ('new', 'a@example.com', 's', 'b', 'dev_mailbox', now() - interval '1 day')"
    )
    .execute(&db)
    .await
    .expect("emails");
    let day = Duration::from_secs(86_400);
    let keep = domain::retention::Retention {
        outbox: 7 * day,
        webhook_events: 30 * day,
        emails: 30 * day,
        relayed_first: false,
    };
    let purged = domain::retention::purge(&mut db.acquire().await.expect("conn"), &keep)
        .await
        .expect("purge");
    assert_eq!(
        purged,
        domain::retention::Purged {
            outbox: 1,
            webhook_events: 1,
            emails: 1
        }
    );
    let topics: Vec<String> = sqlx::query_scalar!("SELECT topic FROM outbox ORDER BY topic")
        .fetch_all(&db)
        .await
        .expect("left");
    assert_eq!(topics, ["new-done", "old-dead", "old-pending"]);
    let receipts: Vec<String> = sqlx::query_scalar!("SELECT id FROM webhook_events")
        .fetch_all(&db)
        .await
        .expect("receipts");
    assert_eq!(receipts, ["evt_new"]);
    let emails: Vec<String> = sqlx::query_scalar!("SELECT idempotency_key FROM emails")
        .fetch_all(&db)
        .await
        .expect("emails");
    assert_eq!(emails, ["new"]);
    assert_eq!(
        domain::retention::purge(&mut db.acquire().await.expect("conn"), &keep)
            .await
            .expect("again"),
        domain::retention::Purged::default(),
        "a second pass finds nothing"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn with_a_relay_retention_keeps_delivered_events_the_broker_does_not_have_yet(db: PgPool) {
    sqlx::query!(
        "INSERT INTO outbox (topic, payload, status, processed_at, relayed_at) VALUES
           ('relayed', '{}', 'done', now() - interval '8 days', now() - interval '8 days'),
           ('unrelayed', '{}', 'done', now() - interval '8 days', NULL)"
    )
    .execute(&db)
    .await
    .expect("events");
    let day = Duration::from_secs(86_400);
    let keep = domain::retention::Retention {
        outbox: 7 * day,
        webhook_events: 30 * day,
        emails: 30 * day,
        relayed_first: true,
    };
    let purged = domain::retention::purge(&mut db.acquire().await.expect("conn"), &keep)
        .await
        .expect("purge");
    assert_eq!(purged.outbox, 1);
    let left: Vec<String> = sqlx::query_scalar!("SELECT topic FROM outbox")
        .fetch_all(&db)
        .await
        .expect("left");
    assert_eq!(left, ["unrelayed"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_job_lock_dropped_without_release_is_free_for_the_next_replica(db: PgPool) {
    use domain::jobs::{try_lock, Job};
    // Two replicas' pools; this one keeps idle connections as long as production does.
    let pool = || {
        PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .connect_with((*db.connect_options()).clone())
    };
    let (mine, other) = (pool().await.expect("pool"), pool().await.expect("pool"));
    let held = try_lock(&mine, Job::Retention)
        .await
        .expect("lock")
        .expect("free");
    assert!(
        try_lock(&other, Job::Retention)
            .await
            .expect("lock")
            .is_none(),
        "held elsewhere"
    );
    // A pass that panics or is cancelled drops its guard without releasing it.
    drop(held);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(lock) = try_lock(&other, Job::Retention).await.expect("lock") {
            lock.release().await;
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the dropped lock was never freed: its connection went back to the pool holding it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
