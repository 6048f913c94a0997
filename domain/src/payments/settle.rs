//! The `payment_succeeded` handler's state change: the order becomes paid.

use super::REFUND_DUE;
use crate::orders::{self, Transition};
use serde_json::Value;
use sqlx::PgPool;
use types::OrderStatus;
use uuid::Uuid;

/// The `payment_succeeded` state change: the order becomes `paid` (its reservation is
/// then committed: only pending orders expire). Safe to run twice: the move happens once.
/// Answers the order the shopper should get a confirmation for, which is every paid one
/// (the email is keyed by order, so a redelivery sends nothing new); a payment for an
/// order cancelled meanwhile is flagged for a refund instead and answers `None`.
#[tracing::instrument(name = "payments.settle", skip_all, fields(order_id))]
pub async fn settle(db: &PgPool, payload: &Value) -> Result<Option<Uuid>, String> {
    let order_id = payload
        .get("order_id")
        .and_then(Value::as_str)
        .and_then(|o| Uuid::parse_str(o).ok())
        .ok_or("payment_succeeded without an order id")?;
    tracing::Span::current().record("order_id", tracing::field::display(order_id));
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let moved = orders::transition_in(&mut tx, order_id, OrderStatus::Paid, "payment received")
        .await
        .map_err(|e| e.to_string())?;
    match moved {
        Transition::Moved => {
            sqlx::query!("UPDATE orders SET paid_at = now() WHERE id = $1", order_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
        }
        Transition::Refused(OrderStatus::Cancelled) => {
            sqlx::query!(
                "UPDATE orders SET review_reason = $2 WHERE id = $1",
                order_id,
                REFUND_DUE
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            return Ok(None);
        }
        // Already paid (a redelivery) or further along: only the email may be missing.
        Transition::Refused(_) => {}
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(Some(order_id))
}
