//! Periodic work that must run on one replica at a time: a Postgres advisory lock held on
//! its own connection for the length of one pass. A replica that dies mid-pass drops its
//! connection, and with it the lock, so another replica takes over on its next tick.

use sqlx::{pool::PoolConnection, PgConnection, PgPool, Postgres};
use std::future::Future;
use types::AppError;

/// A cluster-wide job, named by its advisory-lock key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Closing the payment sessions of orders past their hold, and asking the provider
    /// about orders still pending.
    PaymentExpiry,
    /// Deleting delivered events, old webhook receipts and old emails (`retention`).
    Retention,
    /// Publishing outbox events to the broker, in order (`events::relay`).
    EventRelay,
}

impl Job {
    // Fixed keys: every replica, of every version in a rollout, must agree on them.
    fn key(self) -> i64 {
        match self {
            Job::PaymentExpiry => 0x6261_7a61_0001,
            Job::Retention => 0x6261_7a61_0002,
            Job::EventRelay => 0x6261_7a61_0003,
        }
    }
}

/// A held job lock: the pooled connection that took the advisory lock. `release` unlocks
/// and returns the connection to the pool; dropping the guard without releasing it (an
/// error, a panic, a cancelled task) closes the connection instead, so the lock can never
/// outlive its pass on a connection that goes back to the pool.
#[derive(Debug)]
pub struct JobLock {
    conn: Option<PoolConnection<Postgres>>,
    job: Job,
}

impl JobLock {
    /// The lock's own connection: a pass that runs its SQL here needs no second
    /// connection from the pool, so it cannot wait on a pool its peers hold.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("held until released")
    }

    /// Unlocks, and returns the connection to the pool.
    pub async fn release(mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let released = sqlx::query_scalar!(
            "SELECT pg_advisory_unlock($1) AS \"released!\"",
            self.job.key()
        )
        .fetch_one(&mut *conn)
        .await;
        if !matches!(released, Ok(true)) {
            // The lock's fate on this connection is unknown: close it rather than pool it.
            tracing::warn!(job = ?self.job, "could not release the job lock; closing its connection");
            let _ = conn.detach();
        }
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            tracing::warn!(job = ?self.job, "job lock dropped while held; closing its connection");
            let _ = conn.detach();
        }
    }
}

/// Takes `job`'s cluster-wide lock if no other replica holds it.
#[tracing::instrument(skip(db))]
pub async fn try_lock(db: &PgPool, job: Job) -> Result<Option<JobLock>, AppError> {
    let mut conn = db.acquire().await?;
    let held = sqlx::query_scalar!("SELECT pg_try_advisory_lock($1) AS \"held!\"", job.key())
        .fetch_one(&mut *conn)
        .await?;
    Ok(held.then_some(JobLock {
        conn: Some(conn),
        job,
    }))
}

/// Runs `pass` if no other replica is running `job`, and returns its result; returns
/// `Ok(None)` without running it when another replica holds the job.
#[tracing::instrument(skip(db, pass))]
pub async fn run_once<T, F>(db: &PgPool, job: Job, pass: F) -> Result<Option<T>, AppError>
where
    F: Future<Output = Result<T, AppError>>,
{
    let Some(lock) = try_lock(db, job).await? else {
        return Ok(None);
    };
    let result = pass.await;
    lock.release().await;
    result.map(Some)
}
