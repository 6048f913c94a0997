//! Operations endpoints and the gateway layers: health, readiness, request ids, limits,
//! sessions on Redis and graceful shutdown.

mod common;

use common::{spawn_seeded, spawn_with, test_config};
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
    common::seed(&db, &media, 1).await;
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
    common::seed(&db, &media, 24).await;
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
    common::seed(&db, &media, 24).await;
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
    common::seed(&app.db, &app.media_dir, 3).await;
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
        .post_json("/api/checkout", serde_json::json!({"email": "a@example.com", "shipping_address": common::shop::address(), "shipping_method": "standard"}), &[("idempotency-key", "k")])
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
