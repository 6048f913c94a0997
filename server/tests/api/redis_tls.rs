//! Redis over TLS, as ElastiCache with in-transit encryption serves it: a real
//! `redis-server` listening on a TLS port only, with a certificate from a CA made for the
//! test, and the real binary given `rediss://` and that CA through `SSL_CERT_FILE`.

use serde_json::{json, Value};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

/// A child process that is killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a server certificate it signed for 127.0.0.1, in `dir`.
fn certificates(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("dir");
    let ca = format!("{name}-ca");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-subj",
            &format!("/CN={ca}"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "san.ext",
        ],
    );
    dir.join(format!("{ca}.pem"))
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `redis-server` with its plain port off and TLS on `port`.
fn tls_redis(dir: &Path, ca: &Path, port: u16) -> Running {
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            "server.pem",
            "--tls-key-file",
            "server.key",
        ])
        .arg("--tls-ca-cert-file")
        .arg(ca)
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    wait_for_port(port);
    Running(child)
}

fn database_url(db: &PgPool) -> String {
    let opts = db.connect_options();
    let database = opts.get_database().expect("test database name").to_owned();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    format!("{}/{database}", base.rsplit_once('/').expect("url").0)
}

/// The release binary's `serve`, on its own port, with `REDIS_URL` and `SSL_CERT_FILE`.
async fn serve(db: &PgPool, redis_url: &str, ca: &Path, media: &Path) -> (Running, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", database_url(db))
        .env("REDIS_URL", redis_url)
        .env("SSL_CERT_FILE", ca)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("MEDIA_STORE", format!("file://{}", media.display()))
        .env("OUTBOX_WORKER", "off")
        .env("CATALOG_CACHE_TTL_SECS", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the server starts");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(res) = reqwest::get(format!("{base}/health")).await {
            if res.status().is_success() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (Running(child), base)
}

#[sqlx::test(migrations = "../migrations")]
async fn sessions_carts_rate_limits_and_readiness_work_over_tls_redis(db: PgPool) {
    let dir = std::env::temp_dir().join(format!("bazaar-tls-{}", uuid::Uuid::new_v4()));
    let ca = certificates(&dir, "bazaar-test");
    let port = free_port();
    let _redis = tls_redis(&dir, &ca, port);
    crate::common::seed(&db, &dir.join("media"), 1).await;
    let (_server, base) = serve(
        &db,
        &format!("rediss://127.0.0.1:{port}"),
        &ca,
        &dir.join("media"),
    )
    .await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");

    let ready: Value = client
        .get(format!("{base}/ready"))
        .send()
        .await
        .expect("ready")
        .json()
        .await
        .expect("json");
    assert_eq!(ready, json!({"postgres": "ok", "redis": "ok"}));

    // A cart lives in Redis, under the guest's session, which lives there too.
    let sku: String = sqlx::query_scalar!("SELECT sku FROM variants ORDER BY sku LIMIT 1")
        .fetch_one(&db)
        .await
        .expect("a seeded variant");
    let res = client
        .post(format!("{base}/api/cart/items"))
        .json(&json!({"sku": sku, "quantity": 2}))
        .send()
        .await
        .expect("add");
    assert_eq!(
        res.status().as_u16(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let cart: Value = client
        .get(format!("{base}/api/cart"))
        .send()
        .await
        .expect("cart")
        .json()
        .await
        .expect("json");
    assert_eq!(cart["items"][0]["sku"], sku, "{cart}");
    assert_eq!(cart["items"][0]["quantity"], 2, "{cart}");

    // A signed-in session.
    let res = client
        .post(format!("{base}/api/users"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD, "name": "Ann"}))
        .send()
        .await
        .expect("signup");
    assert_eq!(res.status().as_u16(), 201);
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 200);
    let me: Value = client
        .get(format!("{base}/api/users/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "ann@example.com");

    // Failed logins are counted in Redis: the sixth is refused.
    let stranger = reqwest::Client::new();
    let mut statuses = vec![];
    for _ in 0..6 {
        let res = stranger
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": "bob@example.com", "password": "not the password"}))
            .send()
            .await
            .expect("login");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_redis_certificate_from_a_ca_the_process_does_not_trust_is_refused(db: PgPool) {
    let dir = std::env::temp_dir().join(format!("bazaar-tls-{}", uuid::Uuid::new_v4()));
    let ca = certificates(&dir, "bazaar-test");
    let stranger = certificates(&dir.join("other"), "someone-else");
    let port = free_port();
    let _redis = tls_redis(&dir, &ca, port);
    let (_server, base) = serve(
        &db,
        &format!("rediss://127.0.0.1:{port}"),
        &stranger,
        &dir.join("media"),
    )
    .await;
    let res = reqwest::get(format!("{base}/ready")).await.expect("ready");
    assert_eq!(
        res.status().as_u16(),
        503,
        "verification is on: no trust, no Redis"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["postgres"], "ok");
    assert_ne!(body["redis"], "ok", "{body}");
}
