//! The one Redis client: connects lazily and reconnects by itself, so the app starts and
//! serves the catalog while Redis is down, and recovers when it returns.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;
use types::AppError;

/// After a connection failure, calls fail at once for this long instead of each waiting
/// on a reconnect; then one call tries again. Pages that read a session while Redis is
/// down stay as fast as pages that don't.
const BREAK_FOR: Duration = Duration::from_millis(500);

/// Two timeouts this close together mean Redis hangs; one alone may be a busy moment.
const TIMEOUTS_WITHIN: Duration = Duration::from_secs(5);

/// A circuit breaker: the time, since `epoch`, before which Redis counts as down.
struct Breaker {
    epoch: Instant,
    open_until_ms: AtomicU64,
    // When the last command timed out (0: never).
    last_timeout_ms: AtomicU64,
}

impl Breaker {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_open(&self) -> bool {
        self.now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    fn trip(&self) {
        let until = self.now_ms().saturating_add(BREAK_FOR.as_millis() as u64);
        self.open_until_ms.store(until, Ordering::Relaxed);
    }

    /// A refused or dropped connection opens the breaker at once; a timeout only when
    /// another came shortly before it, so one slow reply on a loaded machine fails one
    /// request rather than every request for the break.
    fn record(&self, err: &redis::RedisError) {
        if err.is_timeout() {
            let now = self.now_ms().max(1);
            let previous = self.last_timeout_ms.swap(now, Ordering::Relaxed);
            if previous != 0 && now.saturating_sub(previous) < TIMEOUTS_WITHIN.as_millis() as u64 {
                self.trip();
            }
        } else if err.is_io_error() || err.is_connection_dropped() || err.is_connection_refusal() {
            self.trip();
        }
    }
}

/// A shared, lazily connected Redis handle.
#[derive(Clone)]
pub struct Redis {
    // Shared, not copied: a handle is cloned for every request.
    client: std::sync::Arc<redis::Client>,
    manager: std::sync::Arc<OnceCell<ConnectionManager>>,
    /// Prepended to every key, so several apps or tests can share one Redis.
    pub prefix: std::sync::Arc<str>,
    breaker: std::sync::Arc<Breaker>,
}

impl Redis {
    /// A handle for `url`; nothing is connected until first use.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, redis::RedisError> {
        Ok(Redis {
            client: std::sync::Arc::new(redis::Client::open(url)?),
            manager: std::sync::Arc::new(OnceCell::new()),
            prefix: prefix.into().into(),
            breaker: std::sync::Arc::new(Breaker {
                epoch: Instant::now(),
                open_until_ms: AtomicU64::new(0),
                last_timeout_ms: AtomicU64::new(0),
            }),
        })
    }

    /// A connection, connecting first if needed. Fails at once while the breaker is open
    /// after a recent connection failure.
    pub async fn conn(&self) -> Result<ConnectionManager, AppError> {
        if self.breaker.is_open() {
            return Err(down());
        }
        let manager = self
            .manager
            .get_or_try_init(|| async {
                // One attempt per call: the breaker, not the client, spaces the retries.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Duration::from_secs(1))
                    .set_response_timeout(Duration::from_secs(2))
                    .set_number_of_retries(0);
                self.client.get_connection_manager_with_config(config).await
            })
            .await
            .map_err(|e| self.failed(e))?;
        Ok(manager.clone())
    }

    /// Maps a failed command to a 503, opening the breaker when the connection is at fault.
    pub fn failed(&self, err: redis::RedisError) -> AppError {
        self.breaker.record(&err);
        unavailable(err)
    }

    /// `PING`, for readiness checks.
    pub async fn ping(&self) -> Result<(), AppError> {
        let mut conn = self.conn().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(())
    }

    /// The full key for `key`.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

/// Maps a Redis failure to a 503 that tells the shopper to retry.
fn unavailable(err: redis::RedisError) -> AppError {
    tracing::warn!(error = %err, "redis unavailable");
    down()
}

fn down() -> AppError {
    AppError::Unavailable(
        "This feature is briefly unavailable. Please try again in a moment.".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker {
            epoch: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            last_timeout_ms: AtomicU64::new(0),
        }
    }

    fn io(kind: std::io::ErrorKind) -> redis::RedisError {
        std::io::Error::new(kind, "test").into()
    }

    #[test]
    fn a_refused_connection_opens_the_breaker_at_once() {
        let b = breaker();
        b.record(&io(std::io::ErrorKind::ConnectionRefused));
        assert!(b.is_open());
    }

    #[test]
    fn one_slow_reply_does_not_open_the_breaker_but_a_second_soon_after_does() {
        let b = breaker();
        b.record(&io(std::io::ErrorKind::TimedOut));
        assert!(!b.is_open(), "one timeout may be a busy moment");
        b.record(&io(std::io::ErrorKind::TimedOut));
        assert!(b.is_open(), "two in a row: Redis hangs");
    }

    #[test]
    fn the_breaker_closes_again_after_the_break() {
        let b = breaker();
        b.trip();
        std::thread::sleep(BREAK_FOR + Duration::from_millis(20));
        assert!(!b.is_open());
    }
}
