//! The payment service: opens a provider checkout for each order, takes the provider's
//! webhook events (verified, recorded once, safe in any order), hands payment success to
//! the outbox as `payment_succeeded`, and reconciles with the provider when webhooks go
//! missing.
//!
//! Two providers sit behind one boundary: Stripe, and the built-in dev provider that
//! speaks Stripe's wire format to our own webhook, so both share every line after it.

pub mod dev;
mod reconcile;
pub mod refunds;
mod settle;
pub mod signature;
pub mod stripe;
mod webhooks;
pub mod wire;

pub use refunds::{OrderChange, RefundProgress};
pub use settle::settle;
pub use webhooks::{DEFERRED, REFUND_DUE};

use serde_json::Value;
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use types::{AppError, Order, OrderStatus};
use uuid::Uuid;

/// One line as the provider shows it.
#[derive(Clone, Debug)]
pub struct CheckoutLine {
    /// The line's name as the payment page shows it.
    pub name: String,
    /// One unit's price, in minor units.
    pub unit_amount: i64,
    /// How many.
    pub quantity: i64,
}

/// What we ask a provider to charge for one order.
#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    /// The order being paid.
    pub order_id: Uuid,
    /// Derived from the order, so a retried request opens the same session.
    pub idempotency_key: String,
    /// The shopper's email, prefilled on the payment page.
    pub email: String,
    /// ISO code, upper case.
    pub currency: String,
    /// The goods.
    pub lines: Vec<CheckoutLine>,
    /// Shipping, in minor units.
    pub shipping: i64,
    /// Tax, in minor units.
    pub tax: i64,
    /// The total the session must charge, in minor units.
    pub total: i64,
    /// Where a paid shopper returns.
    pub success_url: String,
    /// Where a shopper who gives up returns.
    pub cancel_url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// An opened checkout session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The provider's session id.
    pub id: String,
    /// The hosted payment page.
    pub url: String,
}

/// Where a provider session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// Waiting for the shopper.
    Open,
    /// Finished (paid, or awaiting an asynchronous payment).
    Complete,
    /// Closed without payment.
    Expired,
}

/// What the provider says about a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    /// The provider's session id.
    pub id: String,
    /// Where the session stands.
    pub status: SessionStatus,
    /// Whether the money arrived.
    pub paid: bool,
    /// What was charged, in minor units.
    pub amount_total: Option<i64>,
    /// ISO code, upper case.
    pub currency: Option<String>,
    /// The provider's payment id, for refunds.
    pub payment_intent: Option<String>,
    /// The order from the session's metadata.
    pub order_id: Option<String>,
}

impl SessionState {
    /// Reads a Stripe-format `checkout.session` object.
    pub fn from_object(o: &Value) -> Option<Self> {
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(SessionState {
            id: text("id")?,
            status: match o.get("status").and_then(Value::as_str) {
                Some("complete") => SessionStatus::Complete,
                Some("expired") => SessionStatus::Expired,
                _ => SessionStatus::Open,
            },
            paid: o.get("payment_status").and_then(Value::as_str) == Some("paid"),
            amount_total: o.get("amount_total").and_then(Value::as_i64),
            currency: text("currency").map(|c| c.to_ascii_uppercase()),
            payment_intent: o.get("payment_intent").and_then(|p| {
                // Expanded or not, as Stripe allows.
                p.as_str()
                    .map(str::to_owned)
                    .or_else(|| p.get("id").and_then(Value::as_str).map(str::to_owned))
            }),
            order_id: o
                .pointer("/metadata/order_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| text("client_reference_id")),
        })
    }
}

/// How a provider call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The card was refused; the shopper can try another.
    #[error("declined: {0}")]
    Declined(String),
    /// The provider could not be reached or failed on its side, even after retries.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request itself.
    #[error("payment provider refused the request: {0}")]
    Rejected(String),
}

impl From<PaymentError> for AppError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Declined(m) => AppError::Conflict(m),
            PaymentError::Unavailable(m) => {
                tracing::warn!(error = %m, "payment provider unavailable");
                AppError::Unavailable(
                    "The payment service is not answering. Your order is saved; try again in a moment."
                        .to_owned(),
                )
            }
            PaymentError::Rejected(m) => AppError::internal("payment provider", m),
        }
    }
}

/// A payment provider.
#[derive(Clone)]
pub enum Provider {
    /// The built-in provider for development and tests.
    Dev(dev::DevProvider),
    /// Stripe Checkout.
    Stripe(Box<stripe::StripeProvider>),
}

impl Provider {
    /// `dev` or `stripe`, as stored on orders.
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Dev(_) => "dev",
            Provider::Stripe(_) => "stripe",
        }
    }

    /// Opens a checkout session.
    pub async fn create_checkout(&self, req: &CheckoutRequest) -> Result<Session, PaymentError> {
        match self {
            Provider::Dev(p) => p.create(req).await,
            Provider::Stripe(p) => p.create(req).await,
        }
    }

    /// Reads a session.
    pub async fn retrieve(&self, session: &str) -> Result<SessionState, PaymentError> {
        match self {
            Provider::Dev(p) => p.retrieve(session).await,
            Provider::Stripe(p) => p.retrieve(session).await,
        }
    }

    /// Closes an open session so it can no longer be paid; answers its final state.
    pub async fn expire(&self, session: &str) -> Result<SessionState, PaymentError> {
        match self {
            Provider::Dev(p) => p.expire(session).await,
            Provider::Stripe(p) => p.expire(session).await,
        }
    }

    /// Refunds `amount` of a payment; the same `key` never refunds twice.
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, PaymentError> {
        match self {
            Provider::Dev(p) => p.refund(payment_intent, amount).await,
            Provider::Stripe(p) => p.refund(payment_intent, amount, key).await,
        }
    }
}

/// What the webhook did with an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Processed now, with what happened.
    Processed(String),
    /// Seen before; nothing changed.
    Duplicate,
}

/// The payment service.
#[derive(Clone)]
pub struct Payments {
    db: PgPool,
    provider: Provider,
    secrets: Arc<Vec<String>>,
    public_url: String,
    hold: Duration,
}

impl Payments {
    /// The service on `provider`, verifying webhooks with any of `secrets`.
    pub fn new(
        db: PgPool,
        provider: Provider,
        secrets: Vec<String>,
        public_url: &str,
        hold: Duration,
    ) -> Self {
        Payments {
            db,
            provider,
            secrets: Arc::new(secrets),
            public_url: public_url.trim_end_matches('/').to_owned(),
            hold,
        }
    }

    /// The provider in use.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The dev provider, when it is the one in use.
    pub fn dev(&self) -> Option<&dev::DevProvider> {
        match &self.provider {
            Provider::Dev(d) => Some(d),
            Provider::Stripe(_) => None,
        }
    }

    /// Opens the provider checkout for a pending order, once; later calls (a replayed
    /// checkout, a retry after a decline) get the same payment URL.
    #[tracing::instrument(name = "payments.start", skip_all, fields(order_id = %order.id, provider = self.provider.name()))]
    pub async fn start(&self, order: &Order) -> Result<String, AppError> {
        let id = order.id.get();
        let row = sqlx::query!(
            r#"SELECT status AS "status: OrderStatus", payment_url, extract(epoch FROM expires_at)::bigint AS "expires_at!"
               FROM orders WHERE id = $1"#,
            id
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
        if let Some(url) = row.payment_url {
            return Ok(url);
        }
        if row.status != OrderStatus::PendingPayment {
            return Err(AppError::Conflict(format!(
                "This order is {} and cannot be paid.",
                row.status
            )));
        }
        let req = CheckoutRequest {
            order_id: id,
            idempotency_key: format!("bazaar-checkout-{id}"),
            email: order.email.clone(),
            currency: order.total.currency.as_str().to_owned(),
            lines: order
                .lines
                .iter()
                .map(|l| CheckoutLine {
                    name: l.name.clone(),
                    unit_amount: l.unit_price.amount,
                    quantity: l.quantity,
                })
                .collect(),
            shipping: order.shipping.amount,
            tax: order.tax.amount,
            total: order.total.amount,
            success_url: format!("{}/checkout/success/{id}", self.public_url),
            cancel_url: format!("{}/checkout/cancelled/{id}", self.public_url),
            expires_at: row.expires_at,
        };
        let session = self.provider.create_checkout(&req).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query!(
            r#"INSERT INTO payments (session_id, order_id, provider, amount, currency)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id) DO NOTHING"#,
            session.id,
            id,
            self.provider.name(),
            req.total,
            req.currency
        )
        .execute(&mut *tx)
        .await?;
        // Two racing requests open the same session (same idempotency key): first one wins.
        let url = sqlx::query_scalar!(
            r#"UPDATE orders SET payment_session = COALESCE(payment_session, $2),
                                 payment_url = COALESCE(payment_url, $3),
                                 payment_provider = COALESCE(payment_provider, $4)
               WHERE id = $1 RETURNING payment_url AS "url!""#,
            id,
            session.id,
            session.url,
            self.provider.name()
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(url)
    }

    /// The unpaid hold, as configured.
    pub fn hold(&self) -> Duration {
        self.hold
    }
}
