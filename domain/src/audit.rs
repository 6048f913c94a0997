//! Who did what: the actor of an admin action and the audit trail it writes, in the same
//! transaction as the change.

use serde_json::Value;
use sqlx::PgConnection;
use types::AppError;
use uuid::Uuid;

/// Who is acting.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The admin's user id.
    pub id: Uuid,
    /// The admin's email, kept in the trail even if the account goes.
    pub email: String,
}

impl Actor {
    /// The actor for a signed-in user.
    pub fn of(user: &types::User) -> Result<Self, AppError> {
        Ok(Actor {
            id: user.id.get(),
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
