//! The merchant's view of customers: the list with orders and spend, and the admin role.

use super::Accounts;
use crate::audit::{audit, Actor};
use crate::rfc3339;
use serde_json::json;
use types::admin::CustomerSummary;
use types::{AppError, Money};
use uuid::Uuid;

impl Accounts {
    /// Customers with their order count and spend, newest first.
    pub async fn customers(&self, q: Option<&str>) -> Result<Vec<CustomerSummary>, AppError> {
        let q = q.filter(|q| !q.trim().is_empty());
        let pattern = q.map(|q| format!("%{}%", q.trim().replace('%', "\\%").replace('_', "\\_")));
        Ok(sqlx::query!(
            r#"SELECT u.id, u.email, u.name, u.role, u.created_at,
                      count(o.id) AS "orders!",
                      COALESCE(sum(o.total_amount) FILTER (WHERE o.status IN ('paid', 'shipped', 'delivered')), 0)::bigint AS "spent!"
               FROM users u LEFT JOIN orders o ON o.user_id = u.id
               WHERE $1::text IS NULL OR u.email ILIKE $1 OR u.name ILIKE $1
               GROUP BY u.id ORDER BY u.created_at DESC LIMIT 200"#,
            pattern
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| CustomerSummary {
            id: r.id.into(),
            email: r.email,
            name: r.name,
            is_admin: r.role == "admin",
            orders: r.orders,
            spent: Money::new(r.spent, types::Currency::USD),
            created_at: rfc3339(r.created_at),
        })
        .collect())
    }

    /// Grants or revokes the admin role. The last admin cannot be revoked (409): the
    /// admins are locked first, so two revocations cannot race past the check.
    #[tracing::instrument(name = "admin.set_role", skip_all, fields(user_id, admin, actor = %actor.email))]
    pub async fn set_admin(
        &self,
        actor: &Actor,
        user_id: &str,
        admin: bool,
    ) -> Result<(), AppError> {
        let target = Uuid::parse_str(user_id).map_err(|_| AppError::not_found("customer"))?;
        let mut tx = self.db.begin().await?;
        let admins =
            sqlx::query_scalar!("SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE")
                .fetch_all(&mut *tx)
                .await?;
        let email = sqlx::query_scalar!("SELECT email FROM users WHERE id = $1 FOR UPDATE", target)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::not_found("customer"))?;
        if !admin && admins == [target] {
            return Err(AppError::Conflict(
                "The last admin cannot be revoked; grant someone else first.".to_owned(),
            ));
        }
        let role = if admin { "admin" } else { "customer" };
        sqlx::query!("UPDATE users SET role = $2 WHERE id = $1", target, role)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            if admin {
                "customer.grant_admin"
            } else {
                "customer.revoke_admin"
            },
            &email,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
