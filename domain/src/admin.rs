//! The merchant's overview: the audit log and the dashboard. Every admin action lives
//! with the entity it changes (catalog, orders, payments, accounts) and writes its audit
//! entry there, in the same transaction as the change.

pub use crate::audit::{audit, Actor};
use crate::orders::Orders;
pub use crate::payments::OrderChange;
use crate::rfc3339;
use serde_json::json;
use sqlx::PgPool;
use types::admin::{AuditEntry, Dashboard, PeriodFigures};
use types::{AppError, Money};

/// The overview service.
#[derive(Clone)]
pub struct Admin {
    db: PgPool,
    orders: Orders,
}

impl Admin {
    /// The service over the shared pool and the order list.
    pub fn new(db: PgPool, orders: Orders) -> Self {
        Admin { db, orders }
    }

    /// The newest audit entries.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
        Ok(sqlx::query!(
            "SELECT actor_email, action, target, details, created_at FROM audit_log ORDER BY id DESC LIMIT $1",
            limit
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            actor: r.actor_email,
            action: r.action,
            target: r.target,
            details: if r.details == json!({}) { String::new() } else { r.details.to_string() },
            at: rfc3339(r.created_at),
        })
        .collect())
    }

    /// Revenue and orders today and for the last 7 and 30 days, the order funnel, low
    /// stock and the latest orders.
    pub async fn dashboard(&self) -> Result<Dashboard, AppError> {
        let mut periods = Vec::new();
        for (label, days) in [("Today", 0i32), ("Last 7 days", 6), ("Last 30 days", 29)] {
            let r = sqlx::query!(
                r#"SELECT count(*) AS "orders!",
                          count(*) FILTER (WHERE status IN ('paid', 'shipped', 'delivered')) AS "paid!",
                          COALESCE(sum(total_amount) FILTER (WHERE status IN ('paid', 'shipped', 'delivered')), 0)::bigint AS "revenue!"
                   FROM orders WHERE created_at >= date_trunc('day', now()) - make_interval(days => $1)"#,
                days
            )
            .fetch_one(&self.db)
            .await?;
            periods.push(PeriodFigures {
                label: label.to_owned(),
                orders: r.orders,
                paid_orders: r.paid,
                revenue: Money::new(r.revenue, types::Currency::USD),
            });
        }
        let f = sqlx::query!(
            r#"SELECT count(*) AS "placed!",
                      count(*) FILTER (WHERE paid_at IS NOT NULL) AS "paid!",
                      count(*) FILTER (WHERE shipped_at IS NOT NULL) AS "shipped!"
               FROM orders WHERE created_at >= now() - interval '30 days'"#
        )
        .fetch_one(&self.db)
        .await?;
        let low_stock = sqlx::query!(
            r#"SELECT v.sku, p.name, v.stock FROM variants v JOIN products p ON p.id = v.product_id
               WHERE p.active AND v.stock <= 5 ORDER BY v.stock, v.sku LIMIT 20"#
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| (r.sku, r.name, i64::from(r.stock)))
        .collect();
        let mut recent = self.orders.list(None, None, None).await?;
        recent.truncate(10);
        Ok(Dashboard {
            periods,
            funnel: vec![
                ("Placed".to_owned(), f.placed),
                ("Paid".to_owned(), f.paid),
                ("Shipped".to_owned(), f.shipped),
            ],
            low_stock,
            recent,
        })
    }
}
