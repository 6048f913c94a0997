//! Healing what webhooks missed: pending orders checked with the provider, dead and
//! deferred events applied again, and overdue sessions closed before their orders expire.

use super::webhooks::{DEFERRED, DEFER_FOR};
use super::{Payments, SessionState, SessionStatus};
use crate::orders::Orders;
use std::time::Duration;
use types::AppError;
use uuid::Uuid;

impl Payments {
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
    pub(super) async fn settle_state(&self, state: &SessionState) -> Result<bool, AppError> {
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
}
