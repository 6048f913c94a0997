//! Test harness: the real app on port 0, a fresh database per test (from `#[sqlx::test]`),
//! real Redis under a unique key prefix, and a small seeded catalog.

#![allow(dead_code)] // each test binary uses a different part of the harness

use server::{config::Config, redis::Redis, Application};
use sqlx::PgPool;
use std::collections::HashMap;
use std::path::PathBuf;

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
    let media_dir = std::env::temp_dir().join(format!("bazaar-test-{}", uuid::Uuid::new_v4()));
    let config = test_config(overrides, &media_dir);
    let redis = Redis::new(&config.redis_url, format!("test:{}:", uuid::Uuid::new_v4()))
        .expect("redis url");
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
