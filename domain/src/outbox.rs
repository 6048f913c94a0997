//! The transactional outbox: the seed's Kafka role at one-binary scale.
//!
//! Business changes write an event in the same transaction. Workers in any number of
//! replicas claim ready events with `FOR UPDATE SKIP LOCKED` and a lease, run the handler,
//! then mark them done, or schedule a retry with exponential backoff, or give up (`dead`)
//! after `max_attempts`. A worker that dies mid-event loses its lease and another one
//! delivers: at-least-once, so handlers are idempotent.

use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use types::AppError;

/// Topics of the event backbone.
pub mod topics {
    /// A user signed up: `{"user_id","email","name"}`.
    pub const USER_CREATED: &str = "user_created";
    /// A password reset was asked for: `{"user_id","email","secret"}`.
    pub const PASSWORD_RESET_REQUESTED: &str = "password_reset_requested";
    /// An order was placed: `{"order_id","email","total","currency"}`.
    pub const ORDER_CREATED: &str = "order_created";
    /// A payment arrived and matched its order:
    /// `{"order_id","session_id","payment_intent","amount","currency"}`.
    pub const PAYMENT_SUCCEEDED: &str = "payment_succeeded";
    /// A product was created, edited, archived or got a new image: `{"slug","change"}`.
    pub const PRODUCT_UPDATED: &str = "product_updated";
    /// The shop moved an order: `{"order_id","status"}`; the shopper is emailed.
    pub const ORDER_STATUS_CHANGED: &str = "order_status_changed";
}

/// Writes an event inside the caller's transaction.
pub async fn enqueue(
    conn: &mut PgConnection,
    topic: &str,
    payload: Value,
) -> Result<i64, AppError> {
    // The event carries the trace it was raised under, for its handler to join.
    Ok(sqlx::query_scalar!(
        "INSERT INTO outbox (topic, payload, trace_parent) VALUES ($1, $2, $3) RETURNING id",
        topic,
        payload,
        crate::trace::current()
    )
    .fetch_one(conn)
    .await?)
}

/// A claimed event.
#[derive(Clone, Debug)]
pub struct Event {
    /// The outbox row id.
    pub id: i64,
    /// One of [`topics`].
    pub topic: String,
    /// The event's JSON payload.
    pub payload: Value,
    /// Including this one.
    pub attempts: i32,
    /// The trace the event was raised under.
    pub trace_parent: Option<String>,
}

/// What the worker hands each claimed event to. Handlers must be idempotent: delivery is
/// at least once. An `Err` schedules a retry with backoff, and after `max_attempts` the
/// event is dead.
pub trait Handler: Clone + Send + Sync + 'static {
    /// Handles one event.
    fn handle(&self, event: &Event)
        -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// Claims and processes outbox events.
#[derive(Clone)]
pub struct OutboxWorker<H> {
    /// The pool events are claimed from.
    pub db: PgPool,
    /// What each event is handed to.
    pub dispatcher: H,
    /// How long a claim lasts before another worker may take the event over.
    pub lease: Duration,
    /// Events claimed per pass.
    pub batch: i64,
    /// Attempts before an event is given up as dead.
    pub max_attempts: i32,
}

impl<H: Handler> OutboxWorker<H> {
    /// A worker with production defaults: 60 s lease, batches of 16, 8 attempts.
    pub fn new(db: PgPool, dispatcher: H) -> Self {
        OutboxWorker {
            db,
            dispatcher,
            lease: Duration::from_secs(60),
            batch: 16,
            max_attempts: 8,
        }
    }

    /// Claims up to `batch` ready events. The claim commits at once, so a crash after this
    /// leaves them locked only until the lease runs out.
    pub async fn claim(&self) -> Result<Vec<Event>, AppError> {
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let rows = sqlx::query!(
            r#"UPDATE outbox SET attempts = attempts + 1,
                      locked_until = now() + make_interval(secs => $2::bigint / 1000.0)
               WHERE id IN (
                   SELECT id FROM outbox
                   WHERE status = 'pending' AND available_at <= now()
                     AND (locked_until IS NULL OR locked_until < now())
                   ORDER BY available_at, id
                   LIMIT $1
                   FOR UPDATE SKIP LOCKED)
               RETURNING id, topic, payload, attempts, trace_parent"#,
            self.batch,
            lease_ms,
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Event {
                id: r.id,
                topic: r.topic,
                payload: r.payload,
                attempts: r.attempts,
                trace_parent: r.trace_parent,
            })
            .collect())
    }

    /// Records the outcome of one event. `secret` fields are erased once it is done.
    pub async fn complete(
        &self,
        event: &Event,
        outcome: Result<(), String>,
    ) -> Result<(), AppError> {
        match outcome {
            Ok(()) => {
                sqlx::query!(
                    r#"UPDATE outbox SET status = 'done', processed_at = now(), locked_until = NULL,
                              last_error = NULL, payload = payload - 'secret'
                       WHERE id = $1"#,
                    event.id
                )
                .execute(&self.db)
                .await?;
            }
            Err(error) if event.attempts >= self.max_attempts => {
                tracing::error!(id = event.id, topic = %event.topic, %error, "outbox event is dead after retries");
                sqlx::query!(
                    "UPDATE outbox SET status = 'dead', locked_until = NULL, last_error = $2 WHERE id = $1",
                    event.id,
                    error
                )
                .execute(&self.db)
                .await?;
            }
            Err(error) => {
                let backoff = backoff(event.attempts);
                tracing::warn!(id = event.id, topic = %event.topic, %error, ?backoff, "outbox event failed; will retry");
                sqlx::query!(
                    r#"UPDATE outbox SET locked_until = NULL, last_error = $2,
                              available_at = now() + make_interval(secs => $3::bigint)
                       WHERE id = $1"#,
                    event.id,
                    error,
                    backoff.as_secs() as i64,
                )
                .execute(&self.db)
                .await?;
            }
        }
        Ok(())
    }

    /// One pass: claim a batch and process it. Returns how many events were handled.
    pub async fn run_once(&self) -> Result<usize, AppError> {
        let (_, never) = tokio::sync::watch::channel(false);
        self.run_batch(&never).await
    }

    /// Claims a batch and processes it; once `stop` turns true, the events not yet begun
    /// are handed back at once, so another replica takes them without waiting for a lease.
    async fn run_batch(
        &self,
        stop: &tokio::sync::watch::Receiver<bool>,
    ) -> Result<usize, AppError> {
        let events = self.claim().await?;
        for (done, event) in events.iter().enumerate() {
            if *stop.borrow() {
                self.release(&events[done..]).await?;
                return Ok(done);
            }
            let outcome = self.handle_renewing(event, &events[done..]).await;
            self.complete(event, outcome).await?;
        }
        Ok(events.len())
    }

    /// Runs `event`'s handler while renewing the lease on it and on the rest of the batch
    /// (`held`) every third of a lease, so a slow mail never lets another replica take
    /// over an event this worker is still sending.
    async fn handle_renewing(&self, event: &Event, held: &[Event]) -> Result<(), String> {
        let span = tracing::info_span!("outbox.event", event_id = event.id, topic = %event.topic, attempt = event.attempts);
        crate::trace::adopt(&span, event.trace_parent.as_deref());
        let handling = tracing::Instrument::instrument(self.dispatcher.handle(event), span);
        tokio::pin!(handling);
        let mut renew = tokio::time::interval((self.lease / 3).max(Duration::from_millis(10)));
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate, and the claim is fresh.
        renew.tick().await;
        loop {
            tokio::select! {
                outcome = &mut handling => return outcome,
                _ = renew.tick() => {
                    if let Err(e) = self.renew(held).await {
                        tracing::warn!(error = %e, "could not renew the outbox lease");
                    }
                }
            }
        }
    }

    /// Extends the lease on events this worker still holds. The attempt count each claim
    /// raised fences the update: an event another worker has claimed since is left alone.
    pub async fn renew(&self, held: &[Event]) -> Result<(), AppError> {
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let ids: Vec<i64> = held.iter().map(|e| e.id).collect();
        let attempts: Vec<i32> = held.iter().map(|e| e.attempts).collect();
        sqlx::query!(
            r#"UPDATE outbox o SET locked_until = now() + make_interval(secs => $3::bigint / 1000.0)
               FROM UNNEST($1::bigint[], $2::int[]) AS held(id, attempts)
               WHERE o.id = held.id AND o.attempts = held.attempts AND o.status = 'pending'"#,
            &ids,
            &attempts,
            lease_ms
        )
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Gives claimed events back unprocessed: unlocked, and the claim's attempt not counted.
    pub async fn release(&self, events: &[Event]) -> Result<(), AppError> {
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        sqlx::query!(
            "UPDATE outbox SET locked_until = NULL, attempts = attempts - 1
             WHERE id = ANY($1) AND status = 'pending'",
            &ids
        )
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Processes events until `stop` turns true, sleeping briefly when idle.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        tracing::info!("outbox worker started");
        while !*stop.borrow() {
            let idle = match self.run_batch(&stop).await {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox pass failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::info!("outbox worker stopped");
    }
}

/// 2, 4, 8 … seconds, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 12) as u32).min(3600))
}

/// Counts of pending and dead events, for dashboards and tests.
pub async fn backlog(db: &PgPool) -> Result<(i64, i64), AppError> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'pending') AS "pending!",
                  count(*) FILTER (WHERE status = 'dead') AS "dead!" FROM outbox"#
    )
    .fetch_one(db)
    .await?;
    Ok((r.pending, r.dead))
}

/// A payload helper: `{"user_id", "email", "name"}`.
pub fn user_payload(id: &str, email: &str, name: &str) -> Value {
    json!({ "user_id": id, "email": email, "name": name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(50), Duration::from_secs(3600));
    }
}
