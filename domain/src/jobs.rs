//! Periodic work that must run on one replica at a time: a Postgres advisory lock held on
//! its own connection for the length of one pass. A replica that dies mid-pass drops its
//! connection, and with it the lock, so another replica takes over on its next tick.

use sqlx::PgPool;
use std::future::Future;
use types::AppError;

/// A cluster-wide job, named by its advisory-lock key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Closing the payment sessions of orders past their hold, and asking the provider
    /// about orders still pending.
    PaymentExpiry,
}

impl Job {
    // Fixed keys: every replica, of every version in a rollout, must agree on them.
    fn key(self) -> i64 {
        match self {
            Job::PaymentExpiry => 0x6261_7a61_0001,
        }
    }
}

/// Runs `pass` if no other replica is running `job`, and returns its result; returns
/// `Ok(None)` without running it when another replica holds the job.
#[tracing::instrument(skip(db, pass))]
pub async fn run_once<T, F>(db: &PgPool, job: Job, pass: F) -> Result<Option<T>, AppError>
where
    F: Future<Output = Result<T, AppError>>,
{
    let mut conn = db.acquire().await?;
    let held = sqlx::query_scalar!("SELECT pg_try_advisory_lock($1) AS \"held!\"", job.key())
        .fetch_one(&mut *conn)
        .await?;
    if !held {
        return Ok(None);
    }
    let result = pass.await;
    let released = sqlx::query_scalar!("SELECT pg_advisory_unlock($1) AS \"released!\"", job.key())
        .fetch_one(&mut *conn)
        .await;
    if !matches!(released, Ok(true)) {
        // The lock's fate on this connection is unknown: close the connection rather than
        // return it to the pool, so the lock cannot outlive the pass.
        tracing::warn!(
            ?job,
            "could not release the job lock; closing its connection"
        );
        let _ = conn.detach();
    }
    result.map(Some)
}
