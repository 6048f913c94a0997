//! Retention: the tables that only ever grow are trimmed on a schedule, one replica at a
//! time (`jobs::Job::Retention`). Delivered outbox events, webhook receipts and sent
//! emails are kept for their windows (docs/operations.md), then deleted in small batches
//! so that no pass holds locks for long. Pending and dead events are never deleted: they
//! still need a worker or a person.

use sqlx::PgConnection;
use std::time::Duration;
use types::AppError;

/// How long each kind of row is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Delivered (`done`) outbox events, counted from delivery.
    pub outbox: Duration,
    /// Webhook receipts, which make a provider's retry a no-op.
    pub webhook_events: Duration,
    /// Sent emails, whose idempotency keys make a redelivered event send nothing.
    pub emails: Duration,
    /// With a relay configured, a delivered event is kept until the broker has it too.
    pub relayed_first: bool,
}

/// What one pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Delivered outbox events deleted.
    pub outbox: u64,
    /// Webhook receipts deleted.
    pub webhook_events: u64,
    /// Sent emails deleted.
    pub emails: u64,
}

/// Rows per statement: small enough that a batch commits in milliseconds.
const BATCH: i64 = 5_000;

/// Deletes everything past its window, batch by batch, on one connection (the job lock's,
/// in `server`), each batch committing on its own.
#[tracing::instrument(skip(db))]
pub async fn purge(db: &mut PgConnection, keep: &Retention) -> Result<Purged, AppError> {
    // Runs one DELETE … LIMIT BATCH until a batch comes back short, adding up the rows.
    macro_rules! in_batches {
        ($query:expr) => {{
            let mut total = 0;
            loop {
                let n = $query.execute(&mut *db).await?.rows_affected();
                total += n;
                if n < BATCH as u64 {
                    break total;
                }
            }
        }};
    }
    let purged = Purged {
        outbox: in_batches!(sqlx::query!(
            r#"DELETE FROM outbox WHERE id IN (
                   SELECT id FROM outbox
                   WHERE status = 'done' AND processed_at < now() - make_interval(secs => $1)
                     AND (relayed_at IS NOT NULL OR NOT $3)
                   ORDER BY processed_at LIMIT $2)"#,
            keep.outbox.as_secs_f64(),
            BATCH,
            keep.relayed_first
        )),
        webhook_events: in_batches!(sqlx::query!(
            r#"DELETE FROM webhook_events WHERE id IN (
                   SELECT id FROM webhook_events
                   WHERE received_at < now() - make_interval(secs => $1)
                   ORDER BY received_at LIMIT $2)"#,
            keep.webhook_events.as_secs_f64(),
            BATCH
        )),
        emails: in_batches!(sqlx::query!(
            r#"DELETE FROM emails WHERE id IN (
                   SELECT id FROM emails
                   WHERE created_at < now() - make_interval(secs => $1)
                   ORDER BY created_at LIMIT $2)"#,
            keep.emails.as_secs_f64(),
            BATCH
        )),
    };
    if purged != Purged::default() {
        tracing::info!(?purged, "retention pass deleted expired rows");
    }
    Ok(purged)
}
