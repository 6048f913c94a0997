//! Who did what: the actor of an admin action and the audit trail it writes, in the same
//! transaction as the change.

use crate::orders;
use crate::outbox;
use serde_json::{json, Value};
use sqlx::PgConnection;
use types::{AppError, OrderStatus};
use uuid::Uuid;

/// Who is acting.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
}

impl Actor {
    /// The actor for a signed-in user.
    pub fn of(user: &types::User) -> Result<Self, AppError> {
        Ok(Actor {
            id: Uuid::parse_str(&user.id).map_err(|e| AppError::internal("actor id", e))?,
            email: user.email.clone(),
        })
    }
}

/// Writes one audit entry inside the caller's transaction.
pub async fn audit(
    tx: &mut PgConnection,
    actor: &Actor,
    action: &str,
    target: &str,
    details: Value,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_id, actor_email, action, target, details) VALUES ($1, $2, $3, $4, $5)",
        actor.id,
        actor.email,
        action,
        target,
        details
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Moves order `id` to `next` for `actor`, inside the caller's transaction: the status
/// change, its audit entry, and the `order_status_changed` event that emails the shopper.
/// Answers the current status when the move is not allowed from it.
pub async fn move_order_in(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    next: OrderStatus,
    reason: &str,
    details: Value,
) -> Result<Result<(), String>, AppError> {
    if let Err(current) = orders::transition_in(tx, id, next, reason).await? {
        return Ok(Err(current));
    }
    let mut details = details;
    details["reason"] = json!(reason);
    audit(
        tx,
        actor,
        &format!("order.{}", next.as_str()),
        &id.to_string(),
        details,
    )
    .await?;
    outbox::enqueue(
        tx,
        outbox::topics::ORDER_STATUS_CHANGED,
        json!({"order_id": id.to_string(), "status": next.as_str()}),
    )
    .await?;
    Ok(Ok(()))
}
