//! A shopper's cart and checkout calls, and the stock helpers around them.

use super::{session_cookie, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

/// A seeded SKU the tests buy.
pub const MUG: &str = "CLASSIC-MUG-STANDARD";

pub fn address() -> Value {
    json!({"name": "Ann Lee", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"})
}

pub async fn stock(db: &PgPool, sku: &str) -> i32 {
    sqlx::query_scalar!("SELECT stock FROM variants WHERE sku = $1", sku)
        .fetch_one(db)
        .await
        .expect("stock")
}

pub async fn set_stock(db: &PgPool, sku: &str, n: i32) {
    sqlx::query!("UPDATE variants SET stock = $2 WHERE sku = $1", sku, n)
        .execute(db)
        .await
        .expect("set stock");
}

/// Cart calls for one shopper, carrying their cookie.
pub struct Shopper<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> Shopper<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Shopper { app, cookie: None }
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let res = req.send().await.expect("send");
        if let Some(c) = session_cookie(&res) {
            self.cookie = Some(c);
        }
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn add(&mut self, sku: &str, quantity: i64) -> (u16, Value) {
        let req = self
            .app
            .client
            .post(self.app.url("/api/cart/items"))
            .json(&json!({"sku": sku, "quantity": quantity}));
        self.send(req).await
    }

    pub async fn cart(&mut self) -> Value {
        let req = self.app.client.get(self.app.url("/api/cart"));
        let (status, body) = self.send(req).await;
        assert_eq!(status, 200);
        body
    }

    pub async fn checkout(&mut self, key: &str, body: Value) -> (u16, Value) {
        let req = self
            .app
            .client
            .post(self.app.url("/api/checkout"))
            .header("idempotency-key", key)
            .json(&body);
        self.send(req).await
    }
}

pub fn guest_checkout() -> Value {
    json!({"email": "guest@example.com", "shipping_address": address(), "shipping_method": "standard"})
}

/// The dev payment session of a checkout answer (`/dev/pay/{session}`).
pub fn session_of(placed: &Value) -> String {
    placed["payment_url"]
        .as_str()
        .and_then(|u| u.strip_prefix("/dev/pay/"))
        .expect("a dev payment URL")
        .to_owned()
}

/// Pays a dev session with `card`, as the shopper would on the hosted page.
pub async fn pay(app: &TestApp, session: &str, card: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/dev/pay/{session}")))
        .form(&[("card_number", card)])
        .send()
        .await
        .expect("pay")
}

/// A guest's order for one mug: its id and dev payment session.
pub async fn placed_order(app: &TestApp) -> (String, String) {
    let mut shopper = Shopper::new(app);
    assert_eq!(shopper.add(MUG, 1).await.0, 200);
    let (status, placed) = shopper
        .checkout(&uuid::Uuid::new_v4().to_string(), guest_checkout())
        .await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["order_id"].as_str().expect("id").to_owned();
    (id, session_of(&placed))
}

/// A guest's order for one mug, paid through the dev provider and settled.
pub async fn paid_order(app: &TestApp) -> String {
    let (id, session) = placed_order(app).await;
    assert_eq!(
        pay(app, &session, "4242 4242 4242 4242")
            .await
            .status()
            .as_u16(),
        303
    );
    app.drain_outbox().await;
    id
}
