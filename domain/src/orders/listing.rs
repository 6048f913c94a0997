//! The merchant's order list and order page: filters, the review flag and the history.

use super::Orders;
use crate::rfc3339;
use types::admin::{AdminOrderSummary, OrderFilter};
use types::{AppError, Money, Order, OrderStatus};
use uuid::Uuid;

/// Parses an optional `YYYY-MM-DD` filter; a bad one is a 400 naming `field`.
fn parse_day(field: &str, raw: Option<&str>) -> Result<Option<time::Date>, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    raw.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            time::Date::parse(r, &format)
                .map_err(|_| AppError::invalid_param(field, "must be a date like 2026-11-26"))
        })
        .transpose()
}

/// Parses an optional order status filter; a bad one is a 400.
fn parse_status(raw: Option<&str>) -> Result<Option<OrderStatus>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => OrderStatus::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::invalid_param("status", "is not an order status")),
    }
}

impl Orders {
    /// The merchant's order list, filtered as sent (400 for a bad status or day).
    pub async fn list_matching(
        &self,
        filter: &OrderFilter,
    ) -> Result<Vec<AdminOrderSummary>, AppError> {
        let status = parse_status(filter.status.as_deref())?;
        let from = parse_day("from", filter.from.as_deref())?;
        let to = parse_day("to", filter.to.as_deref())?;
        self.list(status, from, to).await
    }

    /// Orders, newest first, by status and creation date (`YYYY-MM-DD`, inclusive).
    pub async fn list(
        &self,
        status: Option<OrderStatus>,
        from: Option<time::Date>,
        to: Option<time::Date>,
    ) -> Result<Vec<AdminOrderSummary>, AppError> {
        let rows = sqlx::query!(
            r#"SELECT o.id, o.status AS "status: OrderStatus", o.email, o.total_amount, o.currency, o.created_at, o.review_reason,
                      (SELECT COALESCE(sum(quantity), 0) FROM order_lines l WHERE l.order_id = o.id)::bigint AS "items!"
               FROM orders o
               WHERE ($1::text IS NULL OR o.status = $1)
                 AND ($2::date IS NULL OR o.created_at >= $2::date)
                 AND ($3::date IS NULL OR o.created_at < $3::date + 1)
               ORDER BY o.created_at DESC LIMIT 200"#,
            status.map(|s| s.as_str()),
            from,
            to
        )
        .fetch_all(&self.db)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AdminOrderSummary {
                    id: r.id.into(),
                    status: r.status,
                    total: Money::from_row(r.total_amount, &r.currency)?,
                    email: r.email,
                    item_count: r.items,
                    created_at: rfc3339(r.created_at),
                    review_reason: r.review_reason,
                })
            })
            .collect()
    }

    /// One order with its review flag and status history.
    pub async fn detail(
        &self,
        id: &str,
    ) -> Result<(Order, Option<String>, Vec<(String, String, String)>), AppError> {
        let order = self
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))?;
        let uuid = Uuid::parse_str(id).map_err(|_| AppError::not_found("order"))?;
        let review = sqlx::query_scalar!("SELECT review_reason FROM orders WHERE id = $1", uuid)
            .fetch_one(&self.db)
            .await?;
        let history = sqlx::query!(
            "SELECT to_status, reason, created_at FROM order_status_changes WHERE order_id = $1 ORDER BY id",
            uuid
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|h| (h.to_status, h.reason, rfc3339(h.created_at)))
        .collect();
        Ok((order, review, history))
    }
}
