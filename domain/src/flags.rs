//! Feature flags: a small table in Postgres, read through a short in-process cache that
//! the toggling replica clears at once (others follow within the cache lifetime).

use crate::audit::{audit, Actor};
use crate::cache::TtlCache;
use serde_json::json;
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use types::{admin::FeatureFlag, AppError};

/// Flags the code reads.
pub mod keys {
    /// Whether checkout offers express shipping.
    pub const EXPRESS_SHIPPING: &str = "express_shipping";
}

/// The flag store.
#[derive(Clone)]
pub struct Flags {
    db: PgPool,
    cache: Arc<TtlCache<(), Vec<FeatureFlag>>>,
}

impl Flags {
    /// Flags on `db`, cached for `ttl`.
    pub fn new(db: PgPool, ttl: Duration) -> Self {
        Flags {
            db,
            cache: Arc::new(TtlCache::new(ttl, 1)),
        }
    }

    /// Every flag.
    pub async fn all(&self) -> Result<Arc<Vec<FeatureFlag>>, AppError> {
        self.cache
            .get_or_load(&(), || async {
                Ok(sqlx::query_as!(
                    FeatureFlag,
                    "SELECT key, description, enabled, updated_by FROM feature_flags ORDER BY key"
                )
                .fetch_all(&self.db)
                .await?)
            })
            .await
    }

    /// Whether `key` is on; an unknown flag is off.
    pub async fn enabled(&self, key: &str) -> Result<bool, AppError> {
        Ok(self.all().await?.iter().any(|f| f.key == key && f.enabled))
    }

    /// Forgets the cached flags, e.g. when another replica changed one.
    pub fn invalidate(&self) {
        self.cache.clear();
    }

    /// Turns a flag on or off, audited.
    #[tracing::instrument(name = "admin.set_flag", skip_all, fields(key, enabled, actor = %actor.email))]
    pub async fn set(&self, actor: &Actor, key: &str, enabled: bool) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        let found = sqlx::query_scalar!(
            "UPDATE feature_flags SET enabled = $2, updated_by = $3 WHERE key = $1 RETURNING key",
            key,
            enabled,
            actor.email
        )
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(AppError::not_found("feature flag"));
        }
        audit(&mut tx, actor, "flag.set", key, json!({"enabled": enabled})).await?;
        tx.commit().await?;
        self.cache.clear();
        Ok(())
    }
}
