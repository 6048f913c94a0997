//! The built-in dev payment provider: a stand-in for Stripe Checkout that keeps its
//! sessions in Postgres, shows a hosted page at `/dev/pay/{session_id}`, and reports
//! results as signed Stripe-format events to our own webhook endpoint.

use super::{signature, wire, CheckoutRequest, PaymentError, Session, SessionState};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;
use types::AppError;
use uuid::Uuid;

/// The test card that pays.
pub const CARD_PAYS: &str = "4242424242424242";
/// The test card that is declined.
pub const CARD_DECLINED: &str = "4000000000000002";

/// The dev provider.
#[derive(Clone)]
pub struct DevProvider {
    db: PgPool,
    /// Where events are delivered: this process's own webhook endpoint.
    webhook_url: String,
    /// The secret events are signed with (the first webhook secret).
    secret: String,
    http: reqwest::Client,
}

/// One dev session, for its hosted page.
#[derive(Clone, Debug)]
pub struct DevSession {
    /// The session id.
    pub id: String,
    /// The order it pays.
    pub order_id: String,
    /// The amount, in minor units.
    pub amount: i64,
    /// The currency code.
    pub currency: String,
    /// The shopper's email.
    pub customer_email: String,
    /// `(name, quantity, unit amount)`.
    pub lines: Vec<(String, i64, i64)>,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// `unpaid` or `paid`.
    pub payment_status: String,
    /// Where a paid shopper returns.
    pub success_url: String,
    /// Where a shopper who gives up returns.
    pub cancel_url: String,
    /// Whether the session was closed.
    pub expired: bool,
}

/// What a card attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Paid: send the shopper to `redirect`.
    Paid {
        /// The order's success page.
        redirect: String,
    },
    /// Declined; the session stays open for another try.
    Declined {
        /// Why, as the shopper sees it.
        message: String,
    },
}

impl DevProvider {
    /// A provider delivering to `webhook_url`, signing with `secret`.
    pub fn new(db: PgPool, webhook_url: String, secret: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        DevProvider {
            db,
            webhook_url,
            secret,
            http,
        }
    }

    pub(super) async fn create(&self, req: &CheckoutRequest) -> Result<Session, PaymentError> {
        let id = format!("cs_dev_{}", Uuid::new_v4().simple());
        let intent = format!("pi_dev_{}", Uuid::new_v4().simple());
        let lines: Vec<Value> = req
            .lines
            .iter()
            .map(|l| json!({"name": l.name, "quantity": l.quantity, "unit_amount": l.unit_amount}))
            .collect();
        // The same idempotency key gives back the first session, as Stripe does.
        let id = sqlx::query_scalar!(
            r#"INSERT INTO dev_payment_sessions (id, idempotency_key, order_id, amount, currency, customer_email,
                                                line_items, success_url, cancel_url, payment_intent, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11))
               ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
               RETURNING id"#,
            id,
            req.idempotency_key,
            req.order_id,
            req.total,
            req.currency,
            req.email,
            Value::Array(lines),
            req.success_url,
            req.cancel_url,
            intent,
            req.expires_at as f64,
        )
        .fetch_one(&self.db)
        .await
        .map_err(|e| PaymentError::Unavailable(e.to_string()))?;
        Ok(Session {
            url: format!("/dev/pay/{id}"),
            id,
        })
    }

    /// The session behind a hosted page, if it exists.
    pub async fn session(&self, id: &str) -> Result<Option<DevSession>, AppError> {
        let row = sqlx::query!(
            r#"SELECT id, order_id, amount, currency, customer_email, line_items, status, payment_status,
                      success_url, cancel_url, expires_at < now() AS "expired!"
               FROM dev_payment_sessions WHERE id = $1"#,
            id
        )
        .fetch_optional(&self.db)
        .await?;
        Ok(row.map(|r| DevSession {
            lines: r
                .line_items
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| {
                            (
                                l["name"].as_str().unwrap_or_default().to_owned(),
                                l["quantity"].as_i64().unwrap_or_default(),
                                l["unit_amount"].as_i64().unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            id: r.id,
            order_id: r.order_id.to_string(),
            amount: r.amount,
            currency: r.currency,
            customer_email: r.customer_email,
            status: r.status,
            payment_status: r.payment_status,
            success_url: r.success_url,
            cancel_url: r.cancel_url,
            expired: r.expired,
        }))
    }

    /// Tries `card_number` on session `id`, then reports the result to the webhook. A
    /// delivery that fails is logged; reconciliation picks the payment up later.
    pub async fn pay(&self, id: &str, card_number: &str) -> Result<Attempt, AppError> {
        let digits: String = card_number
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let session = self
            .session(id)
            .await?
            .ok_or_else(|| AppError::not_found("payment session"))?;
        if session.status != "open" || session.expired {
            return Err(AppError::Conflict(
                "This checkout is no longer open. Return to the shop to see your order.".to_owned(),
            ));
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) || !luhn(&digits) {
            return Err(AppError::invalid_field(
                "card_number",
                "That card number is not valid.",
            ));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match digits.as_str() {
            CARD_PAYS => {
                let done = sqlx::query_scalar!(
                    r#"UPDATE dev_payment_sessions SET status = 'complete', payment_status = 'paid'
                       WHERE id = $1 AND status = 'open' RETURNING id"#,
                    id
                )
                .fetch_optional(&self.db)
                .await?;
                if done.is_some() {
                    let object = self.session_object(id).await?;
                    self.deliver("checkout.session.completed", object, now)
                        .await;
                }
                Ok(Attempt::Paid {
                    redirect: session.success_url,
                })
            }
            CARD_DECLINED => {
                let intent = sqlx::query_scalar!(
                    "SELECT payment_intent FROM dev_payment_sessions WHERE id = $1",
                    id
                )
                .fetch_one(&self.db)
                .await?;
                let object = wire::declined_intent(
                    &intent,
                    &session.order_id,
                    session.amount,
                    &session.currency,
                    now,
                );
                self.deliver("payment_intent.payment_failed", object, now)
                    .await;
                Ok(Attempt::Declined {
                    message: "Your card was declined. Try another card.".to_owned(),
                })
            }
            _ => Err(AppError::invalid_field(
                "card_number",
                "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.",
            )),
        }
    }

    pub(super) async fn retrieve(&self, id: &str) -> Result<SessionState, PaymentError> {
        let object = self
            .session_object(id)
            .await
            .map_err(|e| PaymentError::Unavailable(e.to_string()))?;
        SessionState::from_object(&object)
            .ok_or_else(|| PaymentError::Rejected(format!("no such session {id}")))
    }

    pub(super) async fn expire(&self, id: &str) -> Result<SessionState, PaymentError> {
        sqlx::query!(
            "UPDATE dev_payment_sessions SET status = 'expired' WHERE id = $1 AND status = 'open'",
            id
        )
        .execute(&self.db)
        .await
        .map_err(|e| PaymentError::Unavailable(e.to_string()))?;
        self.retrieve(id).await
    }

    pub(super) async fn refund(
        &self,
        payment_intent: &str,
        amount: i64,
    ) -> Result<String, PaymentError> {
        let row = sqlx::query!(
            r#"UPDATE dev_payment_sessions SET amount_refunded = LEAST(amount, amount_refunded + $2)
               WHERE payment_intent = $1 AND payment_status = 'paid'
               RETURNING order_id, amount, amount_refunded, currency"#,
            payment_intent,
            amount
        )
        .fetch_optional(&self.db)
        .await
        .map_err(|e| PaymentError::Unavailable(e.to_string()))?
        .ok_or_else(|| PaymentError::Rejected(format!("no paid charge for {payment_intent}")))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let charge = wire::refunded_charge(
            payment_intent,
            &row.order_id.to_string(),
            row.amount,
            row.amount_refunded,
            &row.currency,
            now,
        );
        self.deliver("charge.refunded", charge, now).await;
        Ok(format!("re_dev_{}", Uuid::new_v4().simple()))
    }

    async fn session_object(&self, id: &str) -> Result<Value, AppError> {
        let r = sqlx::query!(
            r#"SELECT id, order_id, amount, currency, customer_email, status, payment_status, payment_intent,
                      success_url, cancel_url, extract(epoch FROM created_at)::bigint AS "created!",
                      extract(epoch FROM expires_at)::bigint AS "expires_at!"
               FROM dev_payment_sessions WHERE id = $1"#,
            id
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AppError::not_found("payment session"))?;
        let order_id = r.order_id.to_string();
        let url = format!("/dev/pay/{}", r.id);
        let paid = r.payment_status == "paid";
        Ok(wire::checkout_session(&wire::SessionFields {
            id: &r.id,
            order_id: &order_id,
            amount_total: r.amount,
            currency: &r.currency,
            customer_email: &r.customer_email,
            status: &r.status,
            payment_status: &r.payment_status,
            payment_intent: paid.then_some(r.payment_intent.as_str()),
            url: (r.status == "open").then_some(url.as_str()),
            success_url: &r.success_url,
            cancel_url: &r.cancel_url,
            created: r.created,
            expires_at: r.expires_at,
        }))
    }

    /// Signs and posts one event to the webhook, retrying briefly as Stripe would.
    async fn deliver(&self, kind: &str, object: Value, now: i64) {
        let event = wire::event(
            &format!("evt_dev_{}", Uuid::new_v4().simple()),
            kind,
            object,
            now,
        );
        let body = event.to_string();
        for attempt in 1..=3u32 {
            let header = signature::header(
                &self.secret,
                time::OffsetDateTime::now_utc().unix_timestamp(),
                body.as_bytes(),
            );
            let sent = self
                .http
                .post(&self.webhook_url)
                .header("content-type", "application/json")
                .header("stripe-signature", header)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(res) if res.status().is_success() => return,
                Ok(res) => {
                    tracing::warn!(kind, status = %res.status(), attempt, "dev webhook delivery refused")
                }
                Err(e) => tracing::warn!(kind, error = %e, attempt, "dev webhook delivery failed"),
            }
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        tracing::error!(
            kind,
            "dev webhook not delivered; reconciliation will catch up"
        );
    }
}

/// The Luhn checksum every card number carries.
fn luhn(digits: &str) -> bool {
    if digits.len() < 12 || digits.len() > 19 {
        return false;
    }
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::luhn;

    #[test]
    fn test_cards_pass_luhn_and_typos_do_not() {
        assert!(luhn(super::CARD_PAYS));
        assert!(luhn(super::CARD_DECLINED));
        assert!(!luhn("4242424242424241"));
        assert!(!luhn("42"));
    }
}
