//! Keeps every replica's read caches in step with Postgres. Triggers on the cached tables
//! `NOTIFY` the channel when a change commits (an admin edit, a stock adjustment, a
//! checkout reservation, a release); each replica listens and forgets what it cached.
//! While the channel is down, the caches' TTL bounds how stale a read can be.
//!
//! `NOTIFY` serializes the commits of the transactions that send it, so the hot writer, the
//! checkout, turns its notifications off (`set_config('bazaar.notify', 'deferred', true)`,
//! see the migration `deferred_notify`) and announces after commit through an
//! [`Announcer`], coalesced with its neighbours: one notification per [`COALESCE`].

use crate::{flags::Flags, Catalog};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The channel the migration's triggers notify, with the changed table as the payload.
pub const CHANNEL: &str = "bazaar_cache";

/// The longest a deferred announcement waits for others to share it.
pub const COALESCE: Duration = Duration::from_millis(10);

/// Announces, just after commit, what the transactions that deferred their notifications
/// changed: stock (every replica forgets its catalog cache) and the outbox (the relay
/// wakes). Clones share one pending flag, sent by [`announce`].
#[derive(Clone, Default)]
pub struct Announcer(Arc<Pending>);

#[derive(Default)]
struct Pending {
    due: AtomicBool,
    wake: Notify,
}

impl Announcer {
    /// A deferring transaction committed: the announcement goes out within [`COALESCE`].
    /// If the process dies first, the caches' TTL and the relay's poll cover it.
    pub fn committed(&self) {
        if !self.0.due.swap(true, Ordering::AcqRel) {
            self.0.wake.notify_one();
        }
    }
}

/// Sends what [`Announcer::committed`] asked for until `stop` turns true, at most one
/// notification per channel per [`COALESCE`], from outside any order's transaction.
pub async fn announce(db: PgPool, announcer: Announcer, mut stop: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            () = announcer.0.wake.notified() => false,
            _ = stop.changed() => true,
        };
        if announcer.0.due.swap(false, Ordering::AcqRel) {
            let sent = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM (SELECT pg_notify($1, 'variants'), pg_notify($2, '')) AS sent"#,
                CHANNEL,
                crate::events::relay::CHANNEL,
            )
            .fetch_one(&db)
            .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cannot announce checkouts; caches expire by TTL");
            }
        }
        if stopping || *stop.borrow() {
            return;
        }
        tokio::time::sleep(COALESCE).await;
    }
}

/// The caches a notification clears.
#[derive(Clone)]
pub struct Caches {
    /// Products, categories and stock.
    pub catalog: Catalog,
    /// Feature flags.
    pub flags: Flags,
    /// What the checkout announces after commit.
    pub announcer: Announcer,
}

impl Caches {
    fn forget(&self, table: &str) {
        match table {
            "feature_flags" => self.flags.invalidate(),
            _ => self.catalog.invalidate(),
        }
    }

    fn forget_all(&self) {
        self.catalog.invalidate();
        self.flags.invalidate();
    }
}

/// Listens on [`CHANNEL`] until `stop` turns true, reconnecting with backoff. After every
/// (re)connection the caches are cleared, since notifications sent meanwhile are lost.
pub async fn follow(db: PgPool, caches: Caches, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    while !*stop.borrow() {
        match listen(&db).await {
            Ok(mut listener) => {
                caches.forget_all();
                backoff = Duration::from_millis(100);
                tracing::debug!("following cache invalidations");
                loop {
                    tokio::select! {
                        received = listener.try_recv() => match received {
                            Ok(Some(note)) => caches.forget(note.payload()),
                            // The connection dropped; the next call reconnects. Whatever
                            // was sent in between is lost, so forget everything.
                            Ok(None) => caches.forget_all(),
                            // The pool closed: the process is stopping.
                            Err(sqlx::Error::PoolClosed) => return,
                            Err(e) => {
                                tracing::warn!(error = %e, "cache invalidation channel lost");
                                break;
                            }
                        },
                        _ = stop.changed() => return,
                    }
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "cannot listen for cache invalidations"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen(db: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(db).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
