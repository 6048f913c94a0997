//! Several replicas on one database and one Redis, as behind the Ingress: their caches
//! agree, a stop signal drains the way a rollout needs, and an outage of a shared
//! dependency degrades the shop instead of breaking it.

use crate::common::shop::{guest_checkout, set_stock, Shopper, MUG};
use crate::common::{spawn_sharing, spawn_with, test_config, TestApp};
use domain::redis::Redis;
use serde_json::{json, Value};
use server::{Application, Stop};
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MUG_PAGE: &str = "/api/catalog/products/classic-mug";

/// The mug's `available` and the product's name, as one replica's catalog API says.
async fn mug(app: &TestApp) -> (i64, String) {
    let (status, body) = app.get_json(MUG_PAGE).await;
    assert_eq!(status, 200, "{body}");
    let available = body["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|v| v["sku"] == MUG)
        .and_then(|v| v["available"].as_i64())
        .expect("the mug variant");
    (available, body["name"].as_str().expect("name").to_owned())
}

/// Waits until every replica shows `want`; fails past a second.
async fn all_show(replicas: &[&TestApp], want: (i64, &str), what: &str) {
    let started = Instant::now();
    for replica in replicas {
        loop {
            let (available, name) = mug(replica).await;
            if available == want.0 && name == want.1 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{what}: {} still shows ({available}, {name}), not {want:?}",
                replica.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_change_through_one_replica_is_seen_through_every_replica_within_a_second(db: PgPool) {
    // A long TTL: only the invalidation channel can make the replicas agree in time.
    let env = [("CATALOG_CACHE_TTL_SECS", "300"), ("OUTBOX_WORKER", "off")];
    let prefix = format!("test:{}:", uuid::Uuid::new_v4());
    let a = spawn_sharing(db.clone(), &env, &prefix).await;
    crate::common::seed(&db, &a.media_dir, 3).await;
    set_stock(&db, MUG, 10).await;
    let b = spawn_sharing(db.clone(), &env, &prefix).await;
    let c = spawn_sharing(db.clone(), &env, &prefix).await;
    let others = [&b, &c];
    let name = mug(&b).await.1;
    all_show(&others, (10, &name), "warm-up").await;
    let admin = a.admin("boss@example.com").await;

    let adjust = json!({"delta": 5, "reason": "restock"});
    let (status, body) = a
        .call(
            "POST",
            &format!("/api/admin/inventory/{MUG}/adjust"),
            &admin,
            Some(adjust),
        )
        .await;
    assert!(status < 300, "{status} {body}");
    all_show(&others, (15, &name), "a stock adjustment").await;

    let (status, body) = a
        .call(
            "PATCH",
            "/api/admin/products/classic-mug",
            &admin,
            Some(json!({"name": "Renamed Mug"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    all_show(&others, (15, "Renamed Mug"), "a product edit").await;

    let mut shopper = Shopper::new(&a);
    assert_eq!(shopper.add(MUG, 2).await.0, 200);
    let (status, placed) = shopper.checkout("replica-order-1", guest_checkout()).await;
    assert_eq!(status, 201, "{placed}");
    all_show(&others, (13, "Renamed Mug"), "a checkout reservation").await;

    let id = placed["order_id"].as_str().expect("order id");
    let (status, body) = a
        .call(
            "POST",
            &format!("/api/admin/orders/{id}/cancel"),
            &admin,
            None,
        )
        .await;
    assert!(status < 300, "{status} {body}");
    all_show(&others, (15, "Renamed Mug"), "a stock release").await;
}

/// A server on `db` with `env`, stopped by what the returned sender sends.
async fn stoppable(
    db: PgPool,
    env: &[(&str, &str)],
) -> (
    String,
    tokio::sync::oneshot::Sender<Stop>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let media = std::env::temp_dir().join(format!("bazaar-test-{}", uuid::Uuid::new_v4()));
    let config = test_config(env, &media);
    let redis =
        Redis::new(&config.redis_url, format!("test:{}:", uuid::Uuid::new_v4())).expect("url");
    let app = Application::build_with(config, db, redis)
        .await
        .expect("builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (tx, rx) = tokio::sync::oneshot::channel::<Stop>();
    let server = tokio::spawn(app.run_with_shutdown(async move { rx.await.unwrap_or(Stop::Now) }));
    (base, tx, server)
}

#[sqlx::test(migrations = "../migrations")]
async fn on_sigterm_ready_turns_503_at_once_and_requests_are_served_through_the_drain(db: PgPool) {
    let media = std::env::temp_dir().join("bazaar-test-unused");
    crate::common::seed(&db, &media, 1).await;
    let (base, stop, server) = stoppable(
        db,
        &[("SHUTDOWN_DRAIN_SECS", "2"), ("OUTBOX_WORKER", "off")],
    )
    .await;
    let pooled = reqwest::Client::new();
    let res = pooled
        .get(format!("{base}/api/catalog/products"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers().get("connection").is_none(),
        "keep-alive before the signal"
    );
    assert_eq!(
        pooled
            .get(format!("{base}/ready/pod"))
            .send()
            .await
            .expect("probe")
            .status()
            .as_u16(),
        200
    );

    let signalled = Instant::now();
    stop.send(Stop::Drain).expect("signal");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ready = reqwest::get(format!("{base}/ready")).await.expect("ready");
    assert_eq!(ready.status().as_u16(), 503, "/ready turns at once");
    let body: Value = ready.json().await.expect("json");
    assert_eq!(
        (body["postgres"].as_str(), body["redis"].as_str()),
        (Some("ok"), Some("ok"))
    );
    assert!(body["error"]["message"].is_string(), "{body}");
    let probe = reqwest::get(format!("{base}/ready/pod"))
        .await
        .expect("probe");
    assert_eq!(probe.status().as_u16(), 503, "the pod probe too");

    // Through the drain: the kept-alive connection and new ones are both served, and each
    // answer tells the client to let its connection go.
    let mut served = 0;
    while signalled.elapsed() < Duration::from_millis(1700) {
        for client in [&pooled, &reqwest::Client::new()] {
            let res = client
                .get(format!("{base}/api/catalog/products"))
                .send()
                .await
                .expect("served during the drain");
            assert_eq!(res.status().as_u16(), 200);
            assert_eq!(res.headers()["connection"], "close");
            served += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served >= 10, "{served}");
    assert!(!server.is_finished(), "still serving inside the drain");

    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("stops after the drain")
        .expect("join")
        .expect("clean exit");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "the whole drain was served"
    );
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "no longer accepting"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn on_sigint_the_server_stops_at_once_without_the_drain(db: PgPool) {
    let (base, stop, server) = stoppable(
        db,
        &[("SHUTDOWN_DRAIN_SECS", "30"), ("OUTBOX_WORKER", "on")],
    )
    .await;
    assert_eq!(
        reqwest::get(format!("{base}/health"))
            .await
            .expect("up")
            .status()
            .as_u16(),
        200
    );
    let signalled = Instant::now();
    stop.send(Stop::Now).expect("signal");
    tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("stops at once, background jobs included")
        .expect("join")
        .expect("clean exit");
    assert!(signalled.elapsed() < Duration::from_secs(2));
}

/// A Redis server of the test's own, so the test can take it away and bring it back.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = OwnRedis { port, child: None };
        redis.resume();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server: connections stay open and
    /// nothing answers, as when a network path to Redis blackholes.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `GET path` with `cookie`: the status, the `Retry-After` and the body, and how long it took.
async fn timed(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<Value>,
) -> (u16, Option<String>, String, Duration) {
    let started = Instant::now();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("cookie", cookie);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("an answer");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        retry,
        res.text().await.expect("body"),
        started.elapsed(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn while_redis_is_down_browsing_answers_200_and_the_cart_503_with_retry_after(db: PgPool) {
    let mut redis = OwnRedis::start();
    let app = spawn_with(db, &[("REDIS_URL", &redis.url()), ("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;
    // A shopper with a session and a cart, so every page reads Redis.
    let mut shopper = Shopper::new(&app);
    assert_eq!(shopper.add(MUG, 1).await.0, 200);
    let cookie = shopper.cookie.clone().expect("a session cookie");
    let (status, ..) = timed(&app, "GET", "/products/classic-mug", &cookie, None).await;
    assert_eq!(status, 200);
    let ready_pod = app.get("/ready/pod").await.status().as_u16();
    assert_eq!(ready_pod, 200);

    redis.stop();
    for path in [
        "/",
        "/categories/home-kitchen",
        "/products/classic-mug",
        "/search?q=mug",
        "/api/catalog/products",
        MUG_PAGE,
    ] {
        let (status, _, body, took) = timed(&app, "GET", path, &cookie, None).await;
        assert_eq!(status, 200, "{path} while Redis is down: {body}");
        assert!(
            took < Duration::from_secs(1),
            "{path} took {took:?}: as fast as without Redis"
        );
        if !path.starts_with("/api") {
            assert!(
                body.contains(r#"href="/login""#),
                "{path} shows the visitor signed out"
            );
            assert!(
                body.contains("0 items in cart"),
                "{path} shows an empty cart"
            );
        }
    }
    let add = json!({"sku": MUG, "quantity": 1});
    let cart_calls = [
        ("GET", "/api/cart", None),
        ("POST", "/api/cart/items", Some(add)),
        ("POST", "/api/checkout", Some(guest_checkout())),
    ];
    for (method, path, body) in cart_calls.clone() {
        let (status, retry, text, _) = timed(&app, method, path, &cookie, body).await;
        assert_eq!(status, 503, "{method} {path}: {text}");
        assert!(retry.is_some(), "{method} {path} says when to retry");
        let error: Value = serde_json::from_str(&text).expect("the contract's error body");
        assert!(
            error["error"]["code"].is_string() && error["error"]["message"].is_string(),
            "{text}"
        );
    }
    assert_eq!(
        app.get("/ready").await.status().as_u16(),
        503,
        "/ready reports Redis"
    );
    assert_eq!(
        app.get("/ready/pod").await.status().as_u16(),
        200,
        "the pod stays in the Service"
    );

    redis.resume();
    let back = Instant::now();
    loop {
        let (status, ..) = timed(&app, "GET", "/api/cart", &cookie, None).await;
        let ready = app.get("/ready").await.status().as_u16();
        if status == 200 && ready == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not recovered: cart {status}, ready {ready}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn while_redis_is_down_credential_endpoints_answer_503_whatever_the_password(db: PgPool) {
    let mut redis = OwnRedis::start();
    let app = spawn_with(db, &[("REDIS_URL", &redis.url()), ("OUTBOX_WORKER", "off")]).await;
    app.signup("ann@example.com", crate::common::PASSWORD).await;

    redis.stop();
    // Neither the rate limit nor the answer may lapse: the right and the wrong password
    // get the same refusal, so an outage is no window for guessing.
    for path in ["/api/auth/login", "/api/auth/token"] {
        for password in [crate::common::PASSWORD, "not the password at all"] {
            let res = app
                .post_json(
                    path,
                    json!({"email": "ann@example.com", "password": password}),
                    &[],
                )
                .await;
            let status = res.status().as_u16();
            let retry = res.headers().contains_key("retry-after");
            assert_eq!((status, retry), (503, true), "{path} with {password:?}");
        }
    }
    let signup = app
        .post_json(
            "/api/users",
            json!({"email": "bob@example.com", "password": crate::common::PASSWORD, "name": "Bob"}),
            &[],
        )
        .await;
    assert_eq!(signup.status().as_u16(), 503, "signups are throttled too");
    let bob: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users WHERE email = 'bob@example.com'"#
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(bob, 0, "a refused signup writes nothing");

    redis.resume();
    let back = Instant::now();
    loop {
        let res = app
            .post_json(
                "/api/auth/token",
                json!({"email": "ann@example.com", "password": crate::common::PASSWORD}),
                &[],
            )
            .await;
        if res.status().as_u16() == 200 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(5), "not recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn while_redis_hangs_pages_wait_for_it_once_not_on_every_request(db: PgPool) {
    let redis = OwnRedis::start();
    let app = spawn_with(db, &[("REDIS_URL", &redis.url()), ("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 1).await;
    let mut shopper = Shopper::new(&app);
    assert_eq!(shopper.add(MUG, 1).await.0, 200);
    let cookie = shopper.cookie.clone().expect("a session cookie");

    redis.signal("-STOP");
    // The first request finds out, waiting for the client's timeout...
    let (status, ..) = timed(&app, "GET", "/products/classic-mug", &cookie, None).await;
    assert_eq!(status, 200);
    // ...and the requests right after it do not wait again.
    let mut slow = Vec::new();
    for _ in 0..10 {
        let (status, _, _, took) = timed(&app, "GET", "/products/classic-mug", &cookie, None).await;
        assert_eq!(status, 200);
        if took > Duration::from_millis(300) {
            slow.push(took);
        }
    }
    assert!(
        slow.len() <= 2,
        "pages waited on a hung Redis again and again: {slow:?}"
    );
    redis.signal("-CONT");
}

#[tokio::test]
async fn while_postgres_is_unreachable_answers_are_503_within_a_second() {
    let media = std::env::temp_dir().join("bazaar-test-unused");
    let config = test_config(&[("DATABASE_URL", "postgres://127.0.0.1:1/none")], &media);
    let db = server::startup::pg_pool(&config).expect("a lazy pool");
    let redis = Redis::new(&config.redis_url, "test:").expect("url");
    let app = Application::build_with(config, db, redis)
        .await
        .expect("builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    for path in ["/ready", "/api/catalog/products", "/products/classic-mug"] {
        let started = Instant::now();
        let res = reqwest::get(format!("{base}{path}"))
            .await
            .expect("an answer");
        assert_eq!(res.status().as_u16(), 503, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{path} took {:?}",
            started.elapsed()
        );
    }
    let probe = reqwest::get(format!("{base}/ready/pod"))
        .await
        .expect("probe");
    assert_eq!(probe.status().as_u16(), 200, "the process itself is fine");
}
