//! Test harness: the real app on port 0, a fresh database per test (from `#[sqlx::test]`),
//! real Redis under a unique key prefix, and a small seeded catalog.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod brokers;
pub mod shop;

use domain::redis::Redis;
use server::{config::Config, Application};
use sqlx::PgPool;
use std::collections::HashMap;
use std::path::PathBuf;

/// A complete production environment with real-looking values (the pool and Redis are the
/// test's own; `DATABASE_URL` only satisfies the config check).
pub const PRODUCTION_ENV: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("OUTBOX_WORKER", "off"),
    ("DATABASE_URL", "postgres://unused"),
    ("PUBLIC_URL", "https://shop.example.com"),
    (
        "JWT_SECRET",
        "a-very-long-random-jwt-secret-value-1234567890",
    ),
    (
        "SESSION_SECRET",
        "a-very-long-random-session-secret-value-123456",
    ),
    ("STRIPE_SECRET_KEY", "sk_test_x"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
    ("SMTP_URL", "smtp://127.0.0.1:1"),
];

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: PgPool,
    pub media_dir: PathBuf,
    pub redis: Redis,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// GETs `path` and returns the status with the parsed JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        let body = res.json().await.expect("a JSON body");
        (status, body)
    }

    pub async fn get_html(&self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.text().await.expect("a text body"))
    }
}

pub fn test_config(overrides: &[(&str, &str)], media_dir: &std::path::Path) -> Config {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into());
    env.insert(
        "MEDIA_STORE".into(),
        format!("file://{}", media_dir.display()),
    );
    env.insert("CATALOG_CACHE_TTL_SECS".into(), "0".into());
    env.insert(
        "REDIS_URL".into(),
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
    );
    for (k, v) in overrides {
        env.insert((*k).into(), (*v).into());
    }
    Config::from_lookup(|k| env.get(k).cloned()).expect("test config is valid")
}

/// The slugs of a product listing's items, in order.
pub fn slugs(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["slug"].as_str().expect("slug").to_owned())
        .collect()
}

/// Seeds `per_category` products in each of the 10 demo categories.
pub async fn seed(db: &PgPool, media_dir: &std::path::Path, per_category: usize) {
    let media = domain::media::MediaStore::from_url(&format!("file://{}", media_dir.display()))
        .expect("media");
    let opts = domain::seed::SeedOptions {
        products_per_category: per_category,
        ..Default::default()
    };
    domain::seed::run(db, &media, &opts, |_, _| {})
        .await
        .expect("seeding works");
}

/// Spawns the app on `db` with a 3-per-category catalog.
pub async fn spawn_seeded(db: PgPool) -> TestApp {
    let app = spawn_with(db, &[]).await;
    seed(&app.db, &app.media_dir, 3).await;
    app
}

pub async fn spawn_with(db: PgPool, overrides: &[(&str, &str)]) -> TestApp {
    spawn_sharing(db, overrides, &format!("test:{}:", uuid::Uuid::new_v4())).await
}

/// Spawns an app whose Redis keys start with `prefix`; two apps with one prefix share
/// sessions and rate limits like two replicas.
pub async fn spawn_sharing(db: PgPool, overrides: &[(&str, &str)], prefix: &str) -> TestApp {
    let media_dir = std::env::temp_dir().join(format!("bazaar-test-{}", uuid::Uuid::new_v4()));
    let config = test_config(overrides, &media_dir);
    let redis = Redis::new(&config.redis_url, prefix).expect("redis url");
    let app = Application::build_with(config, db.clone(), redis.clone())
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base,
        client,
        db,
        media_dir,
        redis,
    }
}

/// The session cookie a response sets (`bazaar_session`, or `__Host-bazaar_session` in
/// production), as `name=value`.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bazaar_session=") || v.starts_with("__Host-bazaar_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    /// POSTs JSON with optional extra headers.
    pub async fn post_json(
        &self,
        path: &str,
        body: serde_json::Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(&body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request failed")
    }

    /// Signs up through the API and returns the user's JSON.
    pub async fn signup(&self, email: &str, password: &str) -> serde_json::Value {
        let res = self
            .post_json(
                "/api/users",
                serde_json::json!({"email": email, "password": password, "name": "Test Shopper"}),
                &[],
            )
            .await;
        assert_eq!(res.status().as_u16(), 201, "signup failed");
        res.json().await.expect("user json")
    }

    /// Logs in through the API and returns the session cookie.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .post_json(
                "/api/auth/login",
                serde_json::json!({"email": email, "password": password}),
                &[],
            )
            .await;
        assert_eq!(res.status().as_u16(), 200, "login failed");
        session_cookie(&res).expect("login sets a session cookie")
    }

    /// GETs with a cookie.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request failed")
    }

    /// Runs the outbox until it is empty, as the background worker would.
    pub async fn drain_outbox(&self) {
        let mailer =
            domain::mail::Mailer::new(self.db.clone(), None, "test@bazaar.local").expect("mailer");
        let dispatcher = domain::notifications::Dispatcher {
            db: self.db.clone(),
            mailer,
            public_url: self.base.clone(),
        };
        let worker = domain::outbox::OutboxWorker::new(self.db.clone(), dispatcher);
        while worker.run_once().await.expect("outbox pass") > 0 {}
    }

    /// The dev mailbox for one recipient, newest first.
    pub async fn mailbox(&self, to: &str) -> Vec<serde_json::Value> {
        let (status, body) = self.get_json(&format!("/dev/mailbox.json?to={to}")).await;
        assert_eq!(status, 200);
        body.as_array().expect("array").clone()
    }

    /// Creates an admin account and answers its session cookie.
    pub async fn admin(&self, email: &str) -> String {
        let accounts = domain::Accounts::new(
            self.db.clone(),
            domain::accounts::TokenKeys::new(&"x".repeat(40), std::time::Duration::from_secs(60)),
        );
        accounts
            .create_admin(
                &types::Email::parse(email).expect("email"),
                &types::Password::parse(PASSWORD).expect("password"),
                &types::PersonName::parse("Admin").expect("name"),
            )
            .await
            .expect("admin");
        self.login(email, PASSWORD).await
    }

    /// Posts a form the way a browser without JavaScript does, without following the
    /// redirect it answers with.
    pub async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(self.url(path))
            .header("cookie", cookie)
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .expect("send")
    }

    /// Sends `method path` with a JSON body and a cookie; answers status and JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("cookie", cookie);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }
}

impl TestApp {
    /// Uploads `bytes` as the image of product `slug`, through the admin API.
    pub async fn upload_image(
        &self,
        cookie: &str,
        slug: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let form = reqwest::multipart::Form::new().part("image", png_part(name, bytes));
        self.post_multipart(cookie, &format!("/api/admin/products/{slug}/image"), form)
            .await
    }

    /// POSTs a multipart form as the holder of `cookie`; answers the status and JSON body.
    pub async fn post_multipart(
        &self,
        cookie: &str,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> (u16, serde_json::Value) {
        let res = self
            .client
            .post(self.url(path))
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// A PNG file part named `name`, as a browser sends one.
pub fn png_part(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("image/png")
        .expect("mime")
}

/// GETs a stored rendition and checks it is served as a cacheable JPEG with an ETag that
/// answers 304 when sent back; answers the decoded image.
pub async fn served_image(app: &TestApp, url: &str) -> image::DynamicImage {
    let res = app.get(url).await;
    assert_eq!(res.status().as_u16(), 200, "{url}");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(res.headers()["cache-control"]
        .to_str()
        .is_ok_and(|c| c.contains("max-age")));
    let etag = res.headers().get("etag").cloned().expect("an ETag");
    let img = image::load_from_memory(&res.bytes().await.expect("bytes")).expect("a real JPEG");
    let again = app
        .client
        .get(app.url(url))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("get");
    assert_eq!(again.status().as_u16(), 304);
    img
}

/// A PNG of one colour.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([20, 120, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery";
