//! The order status machine: one move at a time under the order's row lock, with its
//! history row, and for the shop's moves (ship, deliver) the audit entry and the event
//! that emails the shopper, all in one transaction.

use super::Orders;
use crate::audit::{audit, Actor};
use crate::outbox;
use serde_json::{json, Value};
use sqlx::PgConnection;
use types::{AppError, Order, OrderStatus};
use uuid::Uuid;

/// What became of an asked-for move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The order moved.
    Moved,
    /// The status machine does not allow the move from the order's current status.
    Refused(OrderStatus),
}

impl Transition {
    /// The 409 for a refused move to `next`; `Ok` when it moved.
    pub fn or_conflict(self, next: OrderStatus) -> Result<(), AppError> {
        match self {
            Transition::Moved => Ok(()),
            Transition::Refused(current) => Err(AppError::Conflict(format!(
                "An order that is {} cannot become {}.",
                current.as_str(),
                next.as_str()
            ))),
        }
    }
}

impl Orders {
    /// Moves an order to `next` if the machine allows it from its current status (409
    /// otherwise). Cancelling gives its stock back, once.
    pub async fn transition(
        &self,
        id: &str,
        next: OrderStatus,
        reason: &str,
    ) -> Result<Order, AppError> {
        let uuid = Uuid::parse_str(id).map_err(|_| AppError::not_found("order"))?;
        let mut tx = self.db.begin().await?;
        transition_in(&mut tx, uuid, next, reason)
            .await?
            .or_conflict(next)?;
        tx.commit().await?;
        self.get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))
    }

    /// Moves an order for the shop: the move, `extra` writes, the audit entry and the
    /// shopper's email event in one transaction; 409 when the move is not allowed.
    pub(crate) async fn move_order(
        &self,
        actor: &Actor,
        id: &str,
        next: OrderStatus,
        reason: &str,
        extra: impl AsyncFnOnce(&mut PgConnection, Uuid) -> Result<(), AppError>,
    ) -> Result<Order, AppError> {
        let uuid = Uuid::parse_str(id).map_err(|_| AppError::not_found("order"))?;
        let mut tx = self.db.begin().await?;
        move_order_in(&mut tx, actor, uuid, next, reason, json!({}))
            .await?
            .or_conflict(next)?;
        extra(&mut tx, uuid).await?;
        tx.commit().await?;
        self.get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))
    }

    /// `paid → shipped` with the carrier's tracking number; the shopper is emailed.
    #[tracing::instrument(name = "admin.ship", skip_all, fields(order_id = %id, actor = %actor.email))]
    pub async fn ship(&self, actor: &Actor, id: &str, tracking: &str) -> Result<Order, AppError> {
        self.move_order(
            actor,
            id,
            OrderStatus::Shipped,
            "shipped",
            async |tx, uuid| {
                sqlx::query!(
                    "UPDATE orders SET tracking_number = $2, shipped_at = now() WHERE id = $1",
                    uuid,
                    tracking
                )
                .execute(tx)
                .await?;
                Ok(())
            },
        )
        .await
    }

    /// `shipped → delivered`; the shopper is emailed.
    #[tracing::instrument(name = "admin.deliver", skip_all, fields(order_id = %id, actor = %actor.email))]
    pub async fn deliver(&self, actor: &Actor, id: &str) -> Result<Order, AppError> {
        self.move_order(
            actor,
            id,
            OrderStatus::Delivered,
            "delivered",
            async |tx, uuid| {
                sqlx::query!("UPDATE orders SET delivered_at = now() WHERE id = $1", uuid)
                    .execute(tx)
                    .await?;
                Ok(())
            },
        )
        .await
    }
}

/// Moves order `id` to `next` inside the caller's transaction, if the status machine
/// allows it; otherwise answers the current status. Cancelling gives its stock back, once.
pub async fn transition_in(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    next: OrderStatus,
    reason: &str,
) -> Result<Transition, AppError> {
    let from = sqlx::query_scalar!(
        r#"SELECT status AS "status: OrderStatus" FROM orders WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("order"))?;
    if !from.can_become(next) {
        return Ok(Transition::Refused(from));
    }
    sqlx::query!(
        "UPDATE orders SET status = $2 WHERE id = $1",
        id,
        next.as_str()
    )
    .execute(&mut *tx)
    .await?;
    if next == OrderStatus::Cancelled {
        release_stock(&mut *tx, &[id]).await?;
    }
    sqlx::query!(
        "INSERT INTO order_status_changes (order_id, from_status, to_status, reason) VALUES ($1, $2, $3, $4)",
        id,
        from.as_str(),
        next.as_str(),
        reason
    )
    .execute(&mut *tx)
    .await?;
    Ok(Transition::Moved)
}

/// Puts the stock of `orders` back, for orders not released before, and marks them
/// released; gives back their discount code uses, each exactly once.
pub(super) async fn release_stock(
    tx: &mut sqlx::PgConnection,
    orders: &[Uuid],
) -> Result<(), AppError> {
    // Sum per SKU first: one UPDATE … FROM touches each variant row once.
    sqlx::query!(
        r#"WITH released AS (
               UPDATE orders SET stock_released_at = now()
               WHERE id = ANY($1) AND stock_released_at IS NULL
               RETURNING id),
           qty AS (
               SELECT l.sku, sum(l.quantity)::int AS n FROM order_lines l JOIN released r ON r.id = l.order_id GROUP BY l.sku)
           UPDATE variants v SET stock = v.stock + qty.n FROM qty WHERE v.sku = qty.sku"#,
        orders
    )
    .execute(&mut *tx)
    .await?;
    // After the stock, as checkout takes them: variants, then the promotion's row.
    crate::promotions::give_back(tx, orders).await
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
) -> Result<Transition, AppError> {
    if let refused @ Transition::Refused(_) = transition_in(tx, id, next, reason).await? {
        return Ok(refused);
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
    Ok(Transition::Moved)
}
