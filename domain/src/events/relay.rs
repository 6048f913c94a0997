//! The relay: outbox rows to the broker, in id order, marked relayed only once acknowledged.
//!
//! One replica relays at a time, holding `jobs::Job::EventRelay`'s advisory lock for the
//! length of a pass; the others wait their turn, so two replicas never interleave and an
//! event is never skipped. A crash between the broker's acknowledgement and the mark means
//! the next pass publishes the event again, under the same id, which the broker drops.
//! Events of one aggregate are written under that aggregate's row lock, so id order is their
//! commit order, and the relay keeps it.

use super::{Envelope, Outgoing, Publisher};
use crate::jobs::{self, Job};
use crate::metrics::METRICS;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use std::collections::HashSet;
use std::time::Duration;
use time::OffsetDateTime;
use types::AppError;

/// The channel the outbox's insert trigger notifies on commit (and the checkout's
/// [`crate::coherence::Announcer`] just after).
pub const CHANNEL: &str = "bazaar_outbox";
/// Rows read per query.
const BATCH: i64 = 512;
/// Without a notification, how often a replica looks anyway (and a follower tries the lock).
const POLL: Duration = Duration::from_secs(1);
/// The longest wait between attempts while the broker is down: one cheap attempt every few
/// seconds, so the relay is back within that of the broker.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// What a pass did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pass {
    /// Another replica holds the relay lock.
    Follower,
    /// This many events were published and marked.
    Relayed(usize),
}

/// Publishes outbox events to a broker.
pub struct Relay<P> {
    db: PgPool,
    bus: P,
}

impl<P: Publisher> Relay<P> {
    /// A relay from `db`'s outbox to `bus`.
    pub fn new(db: PgPool, bus: P) -> Self {
        Relay { db, bus }
    }

    /// One pass, if no other replica is in one: publishes everything not yet relayed, in
    /// id order, window by window. Stops at the first window the broker does not fully
    /// acknowledge, after marking the part it did.
    #[tracing::instrument(name = "events.relay", skip(self), fields(bus = self.bus.kind()))]
    pub async fn pass(&self) -> Result<Pass, String> {
        let Some(mut lock) = jobs::try_lock(&self.db, Job::EventRelay)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(Pass::Follower);
        };
        let outcome = self.drain(lock.conn()).await;
        lock.release().await;
        outcome.map(Pass::Relayed)
    }

    async fn drain(&self, conn: &mut PgConnection) -> Result<usize, String> {
        let mut relayed = 0;
        loop {
            let events = unrelayed(conn).await.map_err(|e| e.to_string())?;
            let full = events.len() as i64 == BATCH;
            for window in windows(&events, self.bus.window()) {
                let published = self.bus.publish(window).await;
                let acked = &window[..published.acked.min(window.len())];
                mark(conn, acked).await.map_err(|e| e.to_string())?;
                record(acked);
                relayed += acked.len();
                if let Some(error) = published.error {
                    METRICS.relay_failures.inc();
                    METRICS.relay_up.set(0);
                    return Err(error);
                }
            }
            METRICS.relay_up.set(1);
            if !full {
                return Ok(relayed);
            }
        }
    }

    /// Relays until `stop` turns true: at once when an event commits, every second
    /// otherwise, and with a doubling pause (up to 4 s) while the broker fails.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        tracing::info!(bus = self.bus.kind(), "event relay started");
        let mut listener = listen(&self.db).await;
        let mut backoff = Duration::ZERO;
        while !*stop.borrow() {
            let pause = match self.pass().await {
                Ok(_) => {
                    backoff = Duration::ZERO;
                    POLL
                }
                Err(error) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(250), MAX_BACKOFF);
                    tracing::warn!(%error, ?backoff, "event relay pass failed; retrying");
                    backoff
                }
            };
            let woken = async {
                match listener.as_mut() {
                    // A failed broker is not retried on every commit, only after its pause.
                    Some(l) if backoff.is_zero() => match l.recv().await {
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "event relay lost its notifications");
                            tokio::time::sleep(pause).await;
                        }
                    },
                    _ => tokio::time::sleep(pause).await,
                }
            };
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
            if listener.is_none() {
                listener = listen(&self.db).await;
            }
        }
        tracing::info!("event relay stopped");
    }
}

async fn listen(db: &PgPool) -> Option<PgListener> {
    let connect = async {
        let mut listener = PgListener::connect_with(db).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match connect.await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "event relay cannot listen for commits; polling");
            None
        }
    }
}

/// The next events to publish, oldest first, with what the outbox keeps for its own
/// handlers (a reset secret) left out.
async fn unrelayed(conn: &mut PgConnection) -> Result<Vec<Outgoing>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT id, topic, payload - 'secret' AS "data!", created_at, trace_parent
           FROM outbox WHERE relayed_at IS NULL ORDER BY id LIMIT $1"#,
        BATCH
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Outgoing {
            envelope: Envelope {
                id: r.id,
                topic: r.topic,
                time: crate::rfc3339(r.created_at),
                data: r.data,
            },
            trace_parent: r.trace_parent,
            written_at: r.created_at,
        })
        .collect())
}

async fn mark(conn: &mut PgConnection, events: &[Outgoing]) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = events.iter().map(|e| e.envelope.id).collect();
    sqlx::query!(
        "UPDATE outbox SET relayed_at = now() WHERE id = ANY($1) AND relayed_at IS NULL",
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn record(events: &[Outgoing]) {
    let now = OffsetDateTime::now_utc();
    for event in events {
        METRICS
            .events_relayed
            .with_label_values(&[event.envelope.topic.as_str()])
            .inc();
        METRICS
            .relay_lag
            .observe((now - event.written_at).as_seconds_f64().max(0.0));
    }
}

/// Cuts `events` into runs of at most `max`, each holding an aggregate at most once, so a
/// window the broker takes only part of never lets an event overtake its predecessor.
pub fn windows(events: &[Outgoing], max: usize) -> Vec<&[Outgoing]> {
    let mut out = Vec::new();
    let (mut start, mut seen) = (0, HashSet::new());
    for (i, event) in events.iter().enumerate() {
        let aggregate = event.envelope.aggregate();
        if i - start == max.max(1) || seen.contains(&aggregate) {
            out.push(&events[start..i]);
            start = i;
            seen.clear();
        }
        seen.insert(aggregate);
    }
    if start < events.len() {
        out.push(&events[start..]);
    }
    out
}

/// Events not relayed yet, and the age in seconds of the oldest, for `/metrics`.
pub async fn backlog(db: &PgPool) -> Result<(i64, i64), AppError> {
    let r = sqlx::query!(
        r#"SELECT count(*) AS "count!",
                  COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::bigint AS "oldest!"
           FROM outbox WHERE relayed_at IS NULL"#
    )
    .fetch_one(db)
    .await?;
    Ok((r.count, r.oldest))
}

/// Refreshes the backlog gauges; `/metrics` calls this at scrape time when a relay is set.
pub async fn refresh_metrics(db: &PgPool) {
    match backlog(db).await {
        Ok((count, oldest)) => {
            METRICS.relay_backlog.set(count);
            METRICS.relay_oldest_age.set(oldest);
        }
        Err(e) => {
            METRICS.db_errors.inc();
            tracing::warn!(error = %e, "relay metrics unavailable");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: i64, order: &str) -> Outgoing {
        Outgoing {
            envelope: Envelope {
                id,
                topic: "order_created".to_owned(),
                time: String::new(),
                data: json!({"order_id": order}),
            },
            trace_parent: None,
            written_at: OffsetDateTime::now_utc(),
        }
    }

    fn ids(windows: Vec<&[Outgoing]>) -> Vec<Vec<i64>> {
        windows
            .iter()
            .map(|w| w.iter().map(|e| e.envelope.id).collect())
            .collect()
    }

    #[test]
    fn a_window_holds_each_aggregate_once_and_keeps_the_order() {
        let events = [
            event(1, "a"),
            event(2, "b"),
            event(3, "a"),
            event(4, "c"),
            event(5, "d"),
        ];
        assert_eq!(ids(windows(&events, 10)), vec![vec![1, 2], vec![3, 4, 5]]);
        assert_eq!(
            ids(windows(&events, 2)),
            vec![vec![1, 2], vec![3, 4], vec![5]]
        );
        assert!(windows(&[], 10).is_empty());
    }
}
