//! The one Redis client: connects lazily and reconnects by itself, so the app starts and
//! serves the catalog while Redis is down, and recovers when it returns.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;
use tokio::sync::OnceCell;
use types::AppError;

/// A shared, lazily connected Redis handle.
#[derive(Clone)]
pub struct Redis {
    // Shared, not copied: a handle is cloned for every request.
    client: std::sync::Arc<redis::Client>,
    manager: std::sync::Arc<OnceCell<ConnectionManager>>,
    /// Prepended to every key, so several apps or tests can share one Redis.
    pub prefix: std::sync::Arc<str>,
}

impl Redis {
    /// A handle for `url`; nothing is connected until first use.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, redis::RedisError> {
        Ok(Redis {
            client: std::sync::Arc::new(redis::Client::open(url)?),
            manager: std::sync::Arc::new(OnceCell::new()),
            prefix: prefix.into().into(),
        })
    }

    /// A connection, connecting first if needed. Fails fast when Redis is unreachable.
    pub async fn conn(&self) -> Result<ConnectionManager, AppError> {
        let manager = self
            .manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Duration::from_secs(2))
                    .set_response_timeout(Duration::from_secs(2))
                    .set_number_of_retries(1);
                self.client.get_connection_manager_with_config(config).await
            })
            .await
            .map_err(unavailable)?;
        Ok(manager.clone())
    }

    /// `PING`, for readiness checks.
    pub async fn ping(&self) -> Result<(), AppError> {
        let mut conn = self.conn().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The full key for `key`.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

/// Maps a Redis failure to a 503 that tells the shopper to retry.
pub fn unavailable(err: redis::RedisError) -> AppError {
    tracing::warn!(error = %err, "redis unavailable");
    AppError::Unavailable(
        "This feature is briefly unavailable. Please try again in a moment.".to_owned(),
    )
}
