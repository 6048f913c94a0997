//! Stock on hand: compare-and-set in product edits, adjustments by a delta with a reason,
//! and the inventory trail every change leaves.

use super::Catalog;
use crate::audit::{audit, Actor};
use crate::rfc3339;
use serde_json::json;
use types::admin::{InventoryChange, ValidVariant};
use types::AppError;

/// The stock an edit writes to a variant holding `on_hand` (read under its row lock):
/// none unless the editor asked for a change from the value on hand.
pub(super) fn stock_to_write(v: &ValidVariant, on_hand: i32) -> Result<Option<i32>, AppError> {
    let Some(wanted) = v.stock else {
        return Ok(None);
    };
    match v.stock_was {
        Some(was) if was == wanted => Ok(None),
        Some(was) if was == on_hand => Ok(Some(wanted)),
        Some(was) => Err(AppError::Conflict(format!(
            "The stock of {} changed from {was} to {on_hand} while you were editing; nothing was saved. Reload the product and try again.",
            v.sku
        ))),
        None if wanted == on_hand => Ok(None),
        None => Err(AppError::Conflict(format!(
            "The stock of {} is {on_hand}. To set it to {wanted}, send `stock_was` with the value you read, or adjust it by a delta.",
            v.sku
        ))),
    }
}

impl Catalog {
    /// Adds `delta` to a SKU's stock with a reason. Stock never goes below zero (409),
    /// however many adjustments race: the change is one conditional UPDATE.
    #[tracing::instrument(name = "admin.adjust_stock", skip_all, fields(sku = %sku, delta, actor = %actor.email))]
    pub async fn adjust_stock(
        &self,
        actor: &Actor,
        sku: &str,
        delta: i32,
        reason: &str,
    ) -> Result<i64, AppError> {
        let sku = types::Sku::parse(sku).map_err(|_| AppError::not_found("SKU"))?;
        let sku = sku.as_str();
        let mut tx = self.db.begin().await?;
        let after = sqlx::query_scalar!(
            "UPDATE variants SET stock = stock + $2 WHERE sku = $1 AND stock + $2 >= 0 RETURNING stock",
            sku,
            delta
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(after) = after else {
            let stock = sqlx::query_scalar!("SELECT stock FROM variants WHERE sku = $1", sku)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| AppError::not_found("SKU"))?;
            return Err(AppError::Conflict(format!(
                "Stock of {sku} is {stock}; taking {} would make it negative.",
                -delta
            )));
        };
        Self::record_stock(&mut tx, actor, sku, delta, after, reason).await?;
        audit(
            &mut tx,
            actor,
            "inventory.adjust",
            sku,
            json!({"delta": delta, "reason": reason, "stock_after": after}),
        )
        .await?;
        tx.commit().await?;
        self.invalidate();
        Ok(i64::from(after))
    }

    /// A SKU's (or every SKU's) recent stock changes, newest first.
    pub async fn inventory_history(
        &self,
        sku: Option<&str>,
        limit: i64,
    ) -> Result<Vec<InventoryChange>, AppError> {
        Ok(sqlx::query!(
            r#"SELECT sku, delta, stock_after, reason, actor_email, created_at FROM inventory_adjustments
               WHERE $1::text IS NULL OR sku = $1 ORDER BY id DESC LIMIT $2"#,
            sku,
            limit
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| InventoryChange {
            sku: r.sku,
            delta: i64::from(r.delta),
            stock_after: i64::from(r.stock_after),
            reason: r.reason,
            actor: r.actor_email,
            at: rfc3339(r.created_at),
        })
        .collect())
    }
}
