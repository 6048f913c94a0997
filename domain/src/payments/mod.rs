//! The payment service: opens a provider checkout for each order, takes the provider's
//! webhook events (verified, recorded once, safe in any order), hands payment success to
//! the outbox as `payment_succeeded`, and reconciles with the provider when webhooks go
//! missing.
//!
//! Two providers sit behind one boundary: Stripe, and the built-in dev provider that
//! speaks Stripe's wire format to our own webhook, so both share every line after it.

pub mod dev;
pub mod refunds;
pub mod signature;
pub mod stripe;
pub mod wire;

use crate::mail::{Mailer, OutgoingEmail};
use crate::orders::{self, Orders};
use crate::outbox;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::{sync::Arc, time::Duration};
use types::{AppError, Order, OrderStatus};
use uuid::Uuid;

/// One line as the provider shows it.
#[derive(Clone, Debug)]
pub struct CheckoutLine {
    pub name: String,
    pub unit_amount: i64,
    pub quantity: i64,
}

/// What we ask a provider to charge for one order.
#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    pub order_id: Uuid,
    /// Derived from the order, so a retried request opens the same session.
    pub idempotency_key: String,
    pub email: String,
    /// ISO code, upper case.
    pub currency: String,
    pub lines: Vec<CheckoutLine>,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub success_url: String,
    pub cancel_url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// An opened checkout session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub url: String,
}

/// Where a provider session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

/// What the provider says about a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub id: String,
    pub status: SessionStatus,
    pub paid: bool,
    pub amount_total: Option<i64>,
    /// ISO code, upper case.
    pub currency: Option<String>,
    pub payment_intent: Option<String>,
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
    Dev(dev::DevProvider),
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
    pub async fn start(&self, order: &Order) -> Result<String, AppError> {
        let id = Uuid::parse_str(&order.id).map_err(|_| AppError::not_found("order"))?;
        let row = sqlx::query!(
            r#"SELECT status, payment_url, extract(epoch FROM expires_at)::bigint AS "expires_at!"
               FROM orders WHERE id = $1"#,
            id
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
        if let Some(url) = row.payment_url {
            return Ok(url);
        }
        if row.status != OrderStatus::PendingPayment.as_str() {
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

    /// Takes one webhook delivery: checks the signature on the raw body, records the event
    /// id (a replay is acknowledged and ignored), and applies it, all in one transaction.
    pub async fn receive(
        &self,
        signature_header: Option<&str>,
        body: &[u8],
    ) -> Result<Receipt, AppError> {
        use crate::metrics::METRICS;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        signature::verify(
            &self.secrets,
            signature_header.unwrap_or_default(),
            body,
            now,
        )
        .map_err(|e| {
            METRICS
                .webhook_failures
                .with_label_values(&["signature"])
                .inc();
            AppError::BadRequest(format!("Webhook signature refused: {e}."))
        })?;
        let event: Value = serde_json::from_slice(body).map_err(|e| {
            METRICS
                .webhook_failures
                .with_label_values(&["malformed"])
                .inc();
            AppError::BadRequest(format!("Webhook body is not JSON: {e}."))
        })?;
        let (Some(id), Some(kind)) = (
            event.get("id").and_then(Value::as_str),
            event.get("type").and_then(Value::as_str),
        ) else {
            return Err(AppError::BadRequest(
                "Webhook event lacks an id or a type.".to_owned(),
            ));
        };
        let object = event
            .pointer("/data/object")
            .cloned()
            .unwrap_or(Value::Null);
        let mut tx = self.db.begin().await?;
        // Concurrent copies wait here on the primary key until the first one commits.
        let fresh = sqlx::query_scalar!(
            "INSERT INTO webhook_events (id, type, outcome) VALUES ($1, $2, '') ON CONFLICT (id) DO NOTHING RETURNING id",
            id,
            kind
        )
        .fetch_optional(&mut *tx)
        .await?;
        if fresh.is_none() {
            METRICS
                .webhook_events
                .with_label_values(&[kind, "duplicate"])
                .inc();
            return Ok(Receipt::Duplicate);
        }
        let outcome = self.apply(&mut tx, kind, &object).await.inspect_err(|_| {
            METRICS.webhook_failures.with_label_values(&["error"]).inc();
        })?;
        // A deferred event keeps its object, for reconciliation to apply again.
        let keep = outcome.starts_with(DEFERRED).then_some(&object);
        sqlx::query!(
            "UPDATE webhook_events SET outcome = $2, payload = $3 WHERE id = $1",
            id,
            outcome,
            keep
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        METRICS
            .webhook_events
            .with_label_values(&[kind, "processed"])
            .inc();
        METRICS
            .payments
            .with_label_values(&[outcome_label(&outcome)])
            .inc();
        if let Some(created) = event.get("created").and_then(Value::as_i64) {
            METRICS.webhook_lag.observe((now - created).max(0) as f64);
        }
        tracing::info!(event = id, kind, %outcome, "payment event");
        Ok(Receipt::Processed(outcome))
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        kind: &str,
        object: &Value,
    ) -> Result<String, AppError> {
        let session = || {
            SessionState::from_object(object).ok_or_else(|| {
                AppError::BadRequest("The event carries no checkout session.".to_owned())
            })
        };
        match kind {
            "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
                let s = session()?;
                if s.paid {
                    self.record_paid(tx, &s).await
                } else {
                    // Bank debits and the like complete first and pay later.
                    Ok("awaiting payment".to_owned())
                }
            }
            "checkout.session.async_payment_failed" => {
                let s = session()?;
                self.record_closed(tx, &s, "failed", "payment failed").await
            }
            "checkout.session.expired" => {
                let s = session()?;
                self.record_closed(tx, &s, "expired", "payment session expired")
                    .await
            }
            "payment_intent.payment_failed" => {
                let order = object
                    .pointer("/metadata/order_id")
                    .and_then(Value::as_str)
                    .and_then(|o| Uuid::parse_str(o).ok());
                let message = object
                    .pointer("/last_payment_error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("The payment was declined.");
                let Some(order) = order else {
                    return Ok("ignored: no order".to_owned());
                };
                let n = sqlx::query!(
                    "UPDATE orders SET payment_error = $2 WHERE id = $1 AND status = 'pending_payment'",
                    order,
                    message
                )
                .execute(&mut *tx)
                .await?
                .rows_affected();
                Ok(if n > 0 { "decline recorded" } else { "ignored" }.to_owned())
            }
            "charge.refunded" => self.record_refund(tx, object).await,
            _ => Ok("ignored: not subscribed".to_owned()),
        }
    }

    /// Records money received for a session. A matching payment on a pending order
    /// raises `payment_succeeded`; anything else is flagged for a person.
    async fn record_paid(
        &self,
        tx: &mut PgConnection,
        s: &SessionState,
    ) -> Result<String, AppError> {
        let Some(order_id) = self.order_of(tx, s).await? else {
            tracing::error!(session = %s.id, "payment for an unknown order");
            return Ok("ignored: unknown order".to_owned());
        };
        let order = sqlx::query!(
            "SELECT status, total_amount, currency FROM orders WHERE id = $1 FOR UPDATE",
            order_id
        )
        .fetch_one(&mut *tx)
        .await?;
        let recorded =
            sqlx::query_scalar!("SELECT status FROM payments WHERE session_id = $1", s.id)
                .fetch_optional(&mut *tx)
                .await?;
        if matches!(recorded.as_deref(), Some("paid" | "refunded" | "review")) {
            return Ok("already recorded".to_owned());
        }
        let amount = s.amount_total.unwrap_or(-1);
        let currency = s.currency.clone().unwrap_or_default();
        let matches =
            amount == order.total_amount && currency.eq_ignore_ascii_case(&order.currency);
        let status = if matches { "paid" } else { "review" };
        sqlx::query!(
            r#"INSERT INTO payments (session_id, order_id, provider, status, amount, currency, payment_intent)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (session_id) DO UPDATE SET status = EXCLUDED.status, payment_intent = EXCLUDED.payment_intent,
                                                      amount = EXCLUDED.amount, currency = EXCLUDED.currency"#,
            s.id,
            order_id,
            self.provider.name(),
            status,
            amount.max(0),
            if currency.len() == 3 { currency.clone() } else { order.currency.clone() },
            s.payment_intent,
        )
        .execute(&mut *tx)
        .await?;
        if !matches {
            let reason = format!(
                "payment of {amount} {currency} does not match the order total of {} {}",
                order.total_amount, order.currency
            );
            return flag(tx, order_id, &reason, s.payment_intent.as_deref()).await;
        }
        match order.status.as_str() {
            "pending_payment" => {
                sqlx::query!(
                    "UPDATE orders SET payment_intent = $2, payment_error = NULL WHERE id = $1",
                    order_id,
                    s.payment_intent
                )
                .execute(&mut *tx)
                .await?;
                outbox::enqueue(
                    tx,
                    outbox::topics::PAYMENT_SUCCEEDED,
                    json!({
                        "order_id": order_id.to_string(),
                        "session_id": s.id,
                        "payment_intent": s.payment_intent,
                        "amount": amount,
                        "currency": order.currency,
                    }),
                )
                .await?;
                Ok("paid".to_owned())
            }
            "cancelled" => flag(tx, order_id, REFUND_DUE, s.payment_intent.as_deref()).await,
            other => {
                let reason = format!("a second payment for an order that is already {other}");
                flag(tx, order_id, &reason, s.payment_intent.as_deref()).await
            }
        }
    }

    /// A session that ended without money: it failed or expired. The order is cancelled
    /// and its stock released, unless money has already been recorded for it.
    async fn record_closed(
        &self,
        tx: &mut PgConnection,
        s: &SessionState,
        status: &str,
        reason: &str,
    ) -> Result<String, AppError> {
        let Some(order_id) = self.order_of(tx, s).await? else {
            return Ok("ignored: unknown order".to_owned());
        };
        sqlx::query_scalar!("SELECT id FROM orders WHERE id = $1 FOR UPDATE", order_id)
            .fetch_one(&mut *tx)
            .await?;
        let money = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM payments WHERE order_id = $1 AND status IN ('paid', 'refunded', 'review')) AS "e!""#,
            order_id
        )
        .fetch_one(&mut *tx)
        .await?;
        if money {
            return Ok("ignored: the order is already paid".to_owned());
        }
        sqlx::query!(
            "UPDATE payments SET status = $2 WHERE session_id = $1 AND status = 'open'",
            s.id,
            status
        )
        .execute(&mut *tx)
        .await?;
        match orders::transition_in(tx, order_id, OrderStatus::Cancelled, reason).await? {
            Ok(()) => Ok("cancelled".to_owned()),
            Err(current) => Ok(format!("ignored: the order is {current}")),
        }
    }

    /// A refund reported on a charge: a full refund moves the order to `refunded`.
    async fn record_refund(
        &self,
        tx: &mut PgConnection,
        charge: &Value,
    ) -> Result<String, AppError> {
        let Some(intent) = charge.get("payment_intent").and_then(Value::as_str) else {
            return Ok("ignored: no payment intent".to_owned());
        };
        let full = charge
            .get("refunded")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let order = sqlx::query!(
            r#"SELECT id, status, refund_requested_at IS NOT NULL AS "shop_initiated!" FROM orders WHERE payment_intent = $1 FOR UPDATE"#,
            intent
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(order) = order else {
            // Events can arrive in any order: the payment this refunds may not be
            // recorded yet. Reconciliation applies the event again once it is.
            return Ok(format!(
                "{DEFERRED}: the refunded payment is not recorded yet"
            ));
        };
        if order.status == OrderStatus::PendingPayment.as_str() {
            // Recorded, but `payment_succeeded` has not moved the order to paid yet.
            return Ok(format!(
                "{DEFERRED}: the refunded payment is not settled yet"
            ));
        }
        let order_id = order.id;
        if !full {
            return Ok("partial refund noted".to_owned());
        }
        sqlx::query!(
            "UPDATE payments SET status = 'refunded' WHERE order_id = $1 AND payment_intent = $2",
            order_id,
            intent
        )
        .execute(&mut *tx)
        .await?;
        if order.shop_initiated {
            // The admin action that asked for this refund sets the status (refunded or
            // cancelled); moving it here would race that action.
            return Ok("refund recorded; the shop's action sets the status".to_owned());
        }
        match orders::transition_in(
            tx,
            order_id,
            OrderStatus::Refunded,
            "refunded by the payment provider",
        )
        .await?
        {
            Ok(()) => Ok("refunded".to_owned()),
            Err(current) => Ok(format!("refund recorded; the order stays {current}")),
        }
    }

    async fn order_of(
        &self,
        tx: &mut PgConnection,
        s: &SessionState,
    ) -> Result<Option<Uuid>, AppError> {
        if let Some(id) = s.order_id.as_deref().and_then(|o| Uuid::parse_str(o).ok()) {
            return Ok(Some(id));
        }
        Ok(
            sqlx::query_scalar!("SELECT order_id FROM payments WHERE session_id = $1", s.id)
                .fetch_optional(&mut *tx)
                .await?,
        )
    }

    /// Asks the provider about orders still pending after `older_than`, and applies what
    /// it says through the webhook's own rules: a missed payment is recorded, a missed
    /// expiry cancels. Returns how many orders changed.
    pub async fn reconcile(&self, older_than: Duration) -> Result<usize, AppError> {
        let secs = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let due = sqlx::query!(
            r#"SELECT id, payment_session AS "session!" FROM orders
               WHERE status = 'pending_payment' AND payment_session IS NOT NULL
                 AND created_at < now() - make_interval(secs => $1::bigint)
               ORDER BY created_at LIMIT 100"#,
            secs
        )
        .fetch_all(&self.db)
        .await?;
        let mut healed = 0;
        for order in due {
            let state = match self.provider.retrieve(&order.session).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(order = %order.id, error = %e, "reconciliation could not read the session");
                    continue;
                }
            };
            if self.settle_state(&state).await? {
                healed += 1;
            }
        }
        if healed > 0 {
            tracing::info!(healed, "reconciliation applied missed payment events");
        }
        Ok(healed + self.requeue_stranded().await?)
    }

    /// Puts back to work what a race or a dead handler left behind: a `payment_succeeded`
    /// that went dead while its order still waits for payment is queued again, and events
    /// deferred because they arrived before what they refer to are applied again.
    /// Returns how many were picked up.
    pub async fn requeue_stranded(&self) -> Result<usize, AppError> {
        let revived = sqlx::query_scalar!(
            r#"UPDATE outbox o SET status = 'pending', attempts = 0, available_at = now(),
                      locked_until = NULL,
                      last_error = 'queued again by reconciliation after: ' || COALESCE(o.last_error, '')
               WHERE o.topic = 'payment_succeeded' AND o.status = 'dead'
                 AND EXISTS (SELECT 1 FROM orders
                             WHERE orders.id::text = o.payload->>'order_id' AND orders.status = 'pending_payment')
               RETURNING o.id"#
        )
        .fetch_all(&self.db)
        .await?;
        if !revived.is_empty() {
            tracing::warn!(events = ?revived, "dead payment_succeeded events queued again");
        }
        let deferred = sqlx::query!(
            r#"SELECT id FROM webhook_events
               WHERE outcome LIKE 'deferred%' AND payload IS NOT NULL
                 AND received_at > now() - $1::text::interval
               ORDER BY received_at LIMIT 100"#,
            DEFER_FOR
        )
        .fetch_all(&self.db)
        .await?;
        let mut applied = 0;
        for event in deferred {
            let mut tx = self.db.begin().await?;
            // Another replica's pass may hold it; it is theirs then.
            let Some(row) = sqlx::query!(
                r#"SELECT type, payload AS "payload!" FROM webhook_events
                   WHERE id = $1 AND outcome LIKE 'deferred%' AND payload IS NOT NULL
                   FOR UPDATE SKIP LOCKED"#,
                event.id
            )
            .fetch_optional(&mut *tx)
            .await?
            else {
                continue;
            };
            let outcome = self.apply(&mut tx, &row.r#type, &row.payload).await?;
            if outcome.starts_with(DEFERRED) {
                continue;
            }
            sqlx::query!(
                "UPDATE webhook_events SET outcome = $2, payload = NULL WHERE id = $1",
                event.id,
                format!("{outcome} (applied late)")
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(event = %event.id, kind = %row.r#type, %outcome, "deferred payment event applied");
            applied += 1;
        }
        Ok(revived.len() + applied)
    }

    /// Closes the provider sessions of orders past their hold, then cancels those orders
    /// and releases their stock. A session that turns out paid is recorded instead, and
    /// one the provider could not be asked to close keeps its order (and stock) for the
    /// next pass: it might still be paid.
    pub async fn expire_overdue(&self, orders: &Orders) -> Result<usize, AppError> {
        let due = sqlx::query!(
            r#"SELECT id, payment_session AS "session!" FROM orders
               WHERE status = 'pending_payment' AND expires_at < now() AND payment_session IS NOT NULL
               ORDER BY expires_at LIMIT 100"#
        )
        .fetch_all(&self.db)
        .await?;
        let mut changed = 0;
        for order in due {
            match self.provider.expire(&order.session).await {
                Ok(state) => {
                    if self.settle_state(&state).await? {
                        changed += 1;
                    }
                }
                Err(e) => {
                    tracing::warn!(order = %order.id, error = %e, "could not close the payment session")
                }
            }
        }
        // Orders that never got a session (the provider was down at checkout).
        Ok(changed + orders.expire_unpaid().await?)
    }

    /// Closes the provider session of a pending order before the shop cancels it. If the
    /// provider says it was paid meanwhile, the payment is recorded and the cancel refused.
    pub async fn close_session(&self, order_id: &str) -> Result<(), AppError> {
        let uuid = Uuid::parse_str(order_id).map_err(|_| AppError::not_found("order"))?;
        let session = sqlx::query_scalar!("SELECT payment_session FROM orders WHERE id = $1", uuid)
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("order"))?;
        let Some(session) = session else {
            return Ok(());
        };
        let state = self.provider.expire(&session).await?;
        if state.paid {
            self.settle_state(&state).await?;
            return Err(AppError::Conflict(
                "This order was paid a moment ago; refund it instead of cancelling.".to_owned(),
            ));
        }
        Ok(())
    }

    /// Applies a session's final state; true when the order changed.
    async fn settle_state(&self, state: &SessionState) -> Result<bool, AppError> {
        let mut tx = self.db.begin().await?;
        let outcome = if state.paid {
            self.record_paid(&mut tx, state).await?
        } else if state.status == SessionStatus::Expired {
            self.record_closed(&mut tx, state, "expired", "payment session expired")
                .await?
        } else {
            return Ok(false);
        };
        tx.commit().await?;
        Ok(outcome == "paid" || outcome == "cancelled")
    }

    /// The unpaid hold, as configured.
    pub fn hold(&self) -> Duration {
        self.hold
    }
}

/// The metric label for an outcome: its first word ("paid", "flagged", "ignored"…).
fn outcome_label(outcome: &str) -> &'static str {
    match outcome.split([':', ' ', ';']).next().unwrap_or_default() {
        "paid" => "paid",
        "flagged" => "flagged",
        "cancelled" => "cancelled",
        "refunded" | "refund" => "refunded",
        "decline" => "declined",
        "awaiting" => "awaiting",
        "already" => "duplicate",
        "partial" => "partial_refund",
        "deferred" => "deferred",
        _ => "ignored",
    }
}

/// The outcome prefix of an event applied too early, kept to be applied again.
pub const DEFERRED: &str = "deferred";

/// How long a deferred event is retried before it is left to a person (and retention).
const DEFER_FOR: &str = "3 days";

/// Why an order that was paid after it was cancelled needs a person.
pub const REFUND_DUE: &str = "paid after the order was cancelled; refund due";

/// Marks an order for a person to look at, keeping the payment it came with.
async fn flag(
    tx: &mut PgConnection,
    order_id: Uuid,
    reason: &str,
    intent: Option<&str>,
) -> Result<String, AppError> {
    tracing::warn!(order = %order_id, %reason, "payment flagged for review");
    sqlx::query!(
        "UPDATE orders SET review_reason = $2, payment_intent = COALESCE(payment_intent, $3) WHERE id = $1",
        order_id,
        reason,
        intent
    )
    .execute(&mut *tx)
    .await?;
    Ok(format!("flagged: {reason}"))
}

/// The `payment_succeeded` handler: the order becomes `paid` (its reservation is then
/// committed: only pending orders expire) and the shopper gets one confirmation email.
/// Safe to run twice: the move happens once and the email is keyed by order.
pub async fn settle(
    db: &PgPool,
    mailer: &Mailer,
    public_url: &str,
    payload: &Value,
) -> Result<(), String> {
    let order_id = payload
        .get("order_id")
        .and_then(Value::as_str)
        .and_then(|o| Uuid::parse_str(o).ok())
        .ok_or("payment_succeeded without an order id")?;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let moved = orders::transition_in(&mut tx, order_id, OrderStatus::Paid, "payment received")
        .await
        .map_err(|e| e.to_string())?;
    match moved {
        Ok(()) => {
            sqlx::query!("UPDATE orders SET paid_at = now() WHERE id = $1", order_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
        }
        Err(current) if current == "cancelled" => {
            sqlx::query!(
                "UPDATE orders SET review_reason = $2 WHERE id = $1",
                order_id,
                REFUND_DUE
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            return Ok(());
        }
        // Already paid (a redelivery) or further along: only the email may be missing.
        Err(_) => {}
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let order = Orders::get_with(db, &order_id.to_string())
        .await
        .map_err(|e| e.to_string())?
        .ok_or("paid order not found")?;
    let lines: String = order
        .lines
        .iter()
        .map(|l| format!("  {} × {}  {}\n", l.quantity, l.name, l.unit_price))
        .collect();
    let email = OutgoingEmail {
        idempotency_key: format!("order-paid:{order_id}"),
        to: order.email.clone(),
        subject: "Your Bazaar order is confirmed".to_owned(),
        body: format!(
            "Thank you! We received your payment of {} for order {}.\n\n{lines}\n\
             Track it at {public_url}/orders/{order_id}\n\nBazaar",
            order.total, order.id
        ),
    };
    mailer.send(&email).await.map(|_| ())
}
