//! Keeps every replica's read caches in step with Postgres. Triggers on the cached tables
//! `NOTIFY` the channel when a change commits (an admin edit, a stock adjustment, a
//! checkout reservation, a release); each replica listens and forgets what it cached.
//! While the channel is down, the caches' TTL bounds how stale a read can be.

use crate::{flags::Flags, Catalog};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// The channel the migration's triggers notify, with the changed table as the payload.
pub const CHANNEL: &str = "bazaar_cache";

/// The caches a notification clears.
#[derive(Clone)]
pub struct Caches {
    /// Products, categories and stock.
    pub catalog: Catalog,
    /// Feature flags.
    pub flags: Flags,
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
