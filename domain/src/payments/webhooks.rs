//! Webhook deliveries: the signature checked on the raw body, the event recorded once,
//! and its outcome applied under the order's row lock, all in one transaction.

use super::{signature, Payments, Receipt, SessionState};
use crate::orders::{self, Transition};
use crate::outbox;
use serde_json::{json, Value};
use sqlx::PgConnection;
use types::{AppError, OrderStatus};
use uuid::Uuid;

/// The order a payment arrived for, read under its row lock.
struct PaidOrder {
    status: OrderStatus,
    total_amount: i64,
    currency: String,
}

impl Payments {
    /// Takes one webhook delivery: checks the signature on the raw body, records the event
    /// id (a replay is acknowledged and ignored), and applies it, all in one transaction.
    #[tracing::instrument(name = "payments.webhook", skip_all, fields(bytes = body.len()))]
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

    pub(super) async fn apply(
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
    pub(super) async fn record_paid(
        &self,
        tx: &mut PgConnection,
        s: &SessionState,
    ) -> Result<String, AppError> {
        let Some(order_id) = self.order_of(tx, s).await? else {
            tracing::error!(session = %s.id, "payment for an unknown order");
            return Ok("ignored: unknown order".to_owned());
        };
        let order = sqlx::query!(
            r#"SELECT status AS "status: OrderStatus", total_amount, currency, trace_parent FROM orders WHERE id = $1 FOR UPDATE"#,
            order_id
        )
        .fetch_one(&mut *tx)
        .await?;
        // The payment joins the trace of the checkout that opened its session.
        let span = tracing::info_span!("payments.paid", order_id = %order_id, session = %s.id);
        crate::trace::adopt(&span, order.trace_parent.as_deref());
        let order = PaidOrder {
            status: order.status,
            total_amount: order.total_amount,
            currency: order.currency,
        };
        tracing::Instrument::instrument(self.record_paid_for(tx, s, order_id, order), span).await
    }

    async fn record_paid_for(
        &self,
        tx: &mut PgConnection,
        s: &SessionState,
        order_id: Uuid,
        order: PaidOrder,
    ) -> Result<String, AppError> {
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
        match order.status {
            OrderStatus::PendingPayment => {
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
            OrderStatus::Cancelled => {
                flag(tx, order_id, REFUND_DUE, s.payment_intent.as_deref()).await
            }
            other => {
                let reason = format!("a second payment for an order that is already {other}");
                flag(tx, order_id, &reason, s.payment_intent.as_deref()).await
            }
        }
    }

    /// A session that ended without money: it failed or expired. The order is cancelled
    /// and its stock released, unless money has already been recorded for it.
    pub(super) async fn record_closed(
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
            Transition::Moved => Ok("cancelled".to_owned()),
            Transition::Refused(current) => {
                Ok(format!("ignored: the order is {}", current.as_str()))
            }
        }
    }

    /// A refund reported on a charge: a full refund moves the order to `refunded`.
    pub(super) async fn record_refund(
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
            r#"SELECT id, status AS "status: OrderStatus", refund_requested_at IS NOT NULL AS "shop_initiated!" FROM orders WHERE payment_intent = $1 FOR UPDATE"#,
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
        if order.status == OrderStatus::PendingPayment {
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
            Transition::Moved => Ok("refunded".to_owned()),
            Transition::Refused(current) => Ok(format!(
                "refund recorded; the order stays {}",
                current.as_str()
            )),
        }
    }

    pub(super) async fn order_of(
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
}

/// The metric label for an outcome: its first word ("paid", "flagged", "ignored"…).
pub(super) fn outcome_label(outcome: &str) -> &'static str {
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
pub(super) const DEFER_FOR: &str = "3 days";

/// Why an order that was paid after it was cancelled needs a person.
pub const REFUND_DUE: &str = "paid after the order was cancelled; refund due";

/// Marks an order for a person to look at, keeping the payment it came with.
pub(super) async fn flag(
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
