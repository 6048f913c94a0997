//! Refunds that survive their request. The intent is written first; the provider is then
//! called, idempotently, by a task of its own that outlives the request. Whatever it
//! cannot finish (the provider slow or down, the process gone) the payment loop retries
//! until the provider answers, and the order moves on by itself.

use super::{PaymentError, Payments};
use crate::audit::Actor;
use crate::orders::{move_order_in, Orders, Transition};
use crate::outbox::backoff;
use serde_json::json;
use std::time::Duration;
use types::{AppError, Order, OrderStatus};
use uuid::Uuid;

/// How long an admin's request waits for the provider before answering that the refund
/// is under way (202). Well inside the request timeout.
const WAIT_IN_REQUEST: Duration = Duration::from_secs(5);

/// How long one attempt holds its refund: longer than a provider call with its retries.
const CLAIM_SECS: i64 = 120;

/// Where a refund stands after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundProgress {
    /// The provider refunded; the order has moved on.
    Done,
    /// Not confirmed yet; it is retried until the provider answers.
    Pending,
}

/// An order after an admin action.
#[derive(Clone, Debug)]
pub struct OrderChange {
    /// The order as it is now.
    pub order: Order,
    /// A refund is recorded but the provider has not confirmed it yet; it completes by
    /// itself, and the order moves on then.
    pub refund_pending: bool,
}

impl OrderChange {
    fn done(order: Order) -> Self {
        OrderChange {
            order,
            refund_pending: false,
        }
    }
}

enum Attempted {
    Progress(RefundProgress),
    Refused(String),
}

impl Payments {
    /// Cancels an order before it ships and gives its stock back. An unpaid order's
    /// payment page is closed first; a paid one is refunded through the provider, and
    /// becomes cancelled once the money is back (see [`Payments::refund_order`]).
    #[tracing::instrument(name = "admin.cancel", skip_all, fields(order_id = %id, actor = %actor.email))]
    pub async fn cancel_order(
        &self,
        orders: &Orders,
        actor: &Actor,
        id: &str,
    ) -> Result<OrderChange, AppError> {
        let order = orders
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))?;
        match order.status {
            OrderStatus::PendingPayment => {
                self.close_session(id).await?;
                let order = orders
                    .move_order(
                        actor,
                        id,
                        OrderStatus::Cancelled,
                        "cancelled by the shop",
                        async |_, _| Ok(()),
                    )
                    .await?;
                Ok(OrderChange::done(order))
            }
            OrderStatus::Paid => {
                self.refund_into(
                    orders,
                    actor,
                    id,
                    OrderStatus::Cancelled,
                    "cancelled and refunded by the shop",
                )
                .await
            }
            other => Err(AppError::Conflict(format!(
                "An order that is {} cannot be cancelled.",
                other.as_str()
            ))),
        }
    }

    /// Refunds a paid, shipped or delivered order in full, through the provider. The
    /// refund is recorded before the provider is called and finishes by itself if the
    /// provider is slow or down (see [`Payments::refund_order`]).
    #[tracing::instrument(name = "admin.refund", skip_all, fields(order_id = %id, actor = %actor.email))]
    pub async fn refund_in_full(
        &self,
        orders: &Orders,
        actor: &Actor,
        id: &str,
    ) -> Result<OrderChange, AppError> {
        self.refund_into(
            orders,
            actor,
            id,
            OrderStatus::Refunded,
            "refunded by the shop",
        )
        .await
    }

    async fn refund_into(
        &self,
        orders: &Orders,
        actor: &Actor,
        id: &str,
        then: OrderStatus,
        reason: &str,
    ) -> Result<OrderChange, AppError> {
        let uuid = Uuid::parse_str(id).map_err(|_| AppError::not_found("order"))?;
        let progress = self.refund_order(actor, uuid, then, reason).await?;
        let order = orders
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))?;
        Ok(OrderChange {
            order,
            refund_pending: progress == RefundProgress::Pending,
        })
    }

    /// Refunds order `order_id` in full and then moves it to `then` (refunded, or
    /// cancelled for a cancel): 409 if that move is not allowed or a refund is already
    /// under way. Waits a few seconds for the provider; past that, or while the provider
    /// is down, the refund is `Pending` and completes in the background.
    #[tracing::instrument(skip(self, actor), fields(actor = %actor.email))]
    pub async fn refund_order(
        &self,
        actor: &Actor,
        order_id: Uuid,
        then: OrderStatus,
        reason: &str,
    ) -> Result<RefundProgress, AppError> {
        let refund = self.record_intent(actor, order_id, then, reason).await?;
        let payments = self.clone();
        // Its own task: a request that times out or a client that leaves does not stop it.
        let attempt = tokio::spawn(async move { payments.attempt(refund).await });
        match tokio::time::timeout(WAIT_IN_REQUEST, attempt).await {
            Ok(Ok(Ok(Attempted::Progress(p)))) => Ok(p),
            Ok(Ok(Ok(Attempted::Refused(m)))) => Err(AppError::Conflict(format!(
                "The payment provider refused the refund: {m}"
            ))),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(join)) => Err(AppError::internal("refund task", join)),
            Err(_) => Ok(RefundProgress::Pending),
        }
    }

    /// Writes the refund under the order's row lock, claimed for the attempt that follows.
    async fn record_intent(
        &self,
        actor: &Actor,
        order_id: Uuid,
        then: OrderStatus,
        reason: &str,
    ) -> Result<Uuid, AppError> {
        let mut tx = self.db.begin().await?;
        let order = sqlx::query!(
            r#"SELECT status AS "status: OrderStatus", payment_intent, total_amount, currency FROM orders WHERE id = $1 FOR UPDATE"#,
            order_id
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
        let status = order.status;
        if !status.can_become(then) {
            return Err(AppError::Conflict(format!(
                "An order that is {} cannot become {}.",
                status.as_str(),
                then.as_str()
            )));
        }
        let intent = order.payment_intent.ok_or_else(|| {
            AppError::Conflict("This order has no recorded payment to refund.".to_owned())
        })?;
        let id = sqlx::query_scalar!(
            r#"INSERT INTO refunds (order_id, amount, currency, payment_intent, then_status, reason,
                                   next_attempt_at, actor_id, actor_email)
               VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::bigint), $8, $9)
               ON CONFLICT (order_id) WHERE status = 'pending' DO NOTHING
               RETURNING id"#,
            order_id,
            order.total_amount,
            order.currency,
            intent,
            then.as_str(),
            reason,
            CLAIM_SECS,
            actor.id,
            actor.email
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("A refund for this order is already under way.".to_owned())
        })?;
        // The provider's own refund event then leaves the status to this refund.
        sqlx::query!(
            "UPDATE orders SET refund_requested_at = now() WHERE id = $1",
            order_id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Retries the refunds that are due: those whose last attempt failed or died. Returns
    /// how many completed.
    pub async fn retry_refunds(&self) -> Result<usize, AppError> {
        let due = sqlx::query_scalar!(
            r#"UPDATE refunds SET next_attempt_at = now() + make_interval(secs => $1::bigint)
               WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' AND next_attempt_at <= now()
                            ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
               RETURNING id"#,
            CLAIM_SECS
        )
        .fetch_all(&self.db)
        .await?;
        let mut done = 0;
        for id in due {
            if matches!(
                self.attempt(id).await?,
                Attempted::Progress(RefundProgress::Done)
            ) {
                done += 1;
            }
        }
        Ok(done)
    }

    /// One provider call for a claimed refund, and what follows from its answer. The
    /// idempotency key is the refund's, so repeating a call never refunds twice.
    async fn attempt(&self, id: Uuid) -> Result<Attempted, AppError> {
        let r = sqlx::query!(
            r#"UPDATE refunds SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending'
               RETURNING order_id, amount, payment_intent, then_status, reason, attempts, actor_id, actor_email"#,
            id
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AppError::internal("refund", "attempt on a refund that is not pending"))?;
        let key = format!("bazaar-refund-{id}");
        match self
            .provider
            .refund(&r.payment_intent, r.amount, &key)
            .await
        {
            Ok(provider_ref) => {
                let then = OrderStatus::parse(&r.then_status)
                    .ok_or_else(|| AppError::internal("refund then_status", &r.then_status))?;
                let actor = Actor {
                    id: r.actor_id,
                    email: r.actor_email,
                };
                let mut tx = self.db.begin().await?;
                lock_order(&mut tx, r.order_id).await?;
                sqlx::query!(
                    "UPDATE refunds SET status = 'succeeded', provider_ref = $2, last_error = NULL WHERE id = $1",
                    id,
                    provider_ref
                )
                .execute(&mut *tx)
                .await?;
                let details = json!({"refund": id.to_string(), "attempts": r.attempts});
                if let Transition::Refused(current) =
                    move_order_in(&mut tx, &actor, r.order_id, then, &r.reason, details).await?
                {
                    tracing::warn!(order = %r.order_id, %current, "refunded, but the order had moved on");
                }
                tx.commit().await?;
                Ok(Attempted::Progress(RefundProgress::Done))
            }
            Err(PaymentError::Declined(m) | PaymentError::Rejected(m)) => {
                let mut tx = self.db.begin().await?;
                lock_order(&mut tx, r.order_id).await?;
                sqlx::query!(
                    "UPDATE refunds SET status = 'failed', last_error = $2 WHERE id = $1",
                    id,
                    m
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query!(
                    "UPDATE orders SET refund_requested_at = NULL WHERE id = $1",
                    r.order_id
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Attempted::Refused(m))
            }
            Err(PaymentError::Unavailable(m)) => {
                let wait = i64::try_from(backoff(r.attempts).as_secs()).unwrap_or(3600);
                tracing::warn!(refund = %id, attempts = r.attempts, error = %m, "refund not confirmed; will retry");
                sqlx::query!(
                    "UPDATE refunds SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3::bigint) WHERE id = $1",
                    id,
                    m,
                    wait
                )
                .execute(&self.db)
                .await?;
                Ok(Attempted::Progress(RefundProgress::Pending))
            }
        }
    }
}

/// Takes the order's row lock before a refund's outcome touches the refund. A second click
/// holds that lock while its insert waits on the pending refund; writing the refund first
/// and the order second would deadlock the two (and answer both clicks 409).
async fn lock_order(tx: &mut sqlx::PgConnection, order_id: Uuid) -> Result<(), AppError> {
    sqlx::query!("SELECT id FROM orders WHERE id = $1 FOR UPDATE", order_id)
        .fetch_optional(tx)
        .await?;
    Ok(())
}
