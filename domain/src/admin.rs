//! The merchant admin: products, inventory, order actions, customers, the audit log and
//! the dashboard. Every action writes its audit entry (and its event, when others care)
//! in the same transaction as the change.

pub use crate::audit::{audit, Actor};
use crate::catalog::Catalog;
use crate::orders::Orders;
use crate::outbox;
use crate::payments::{refunds::RefundProgress, Payments};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use types::admin::{
    AdminOrderSummary, AdminProduct, AdminVariant, AuditEntry, CustomerSummary, Dashboard,
    InventoryChange, PeriodFigures, ProductEdit, ValidProduct, ValidVariant,
};
use types::{AppError, Currency, Money, Order, OrderStatus, Slug};
use uuid::Uuid;

/// Parses an optional `YYYY-MM-DD` filter; a bad one is a 400 naming `field`.
pub fn parse_day(field: &str, raw: Option<&str>) -> Result<Option<time::Date>, AppError> {
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
pub fn parse_status(raw: Option<&str>) -> Result<Option<OrderStatus>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => OrderStatus::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::invalid_param("status", "is not an order status")),
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn money(amount: i64, currency: &str) -> Money {
    Money::new(amount, Currency::parse(currency).unwrap_or(Currency::USD))
}

/// Friendlier 409s for the unique keys an admin can trip over.
fn clash(err: sqlx::Error, slug: &str) -> AppError {
    if let sqlx::Error::Database(db) = &err {
        match db.constraint() {
            Some("products_slug_key") => {
                return AppError::Conflict(format!(
                    "The slug `{slug}` is already used by another product."
                ))
            }
            Some("variants_sku_key") => {
                let detail = db.message().to_owned();
                return AppError::Conflict(format!(
                    "A SKU in this product already exists on another product ({detail})."
                ));
            }
            _ => {}
        }
    }
    AppError::from(err)
}

/// The stock an edit writes to a variant holding `on_hand` (read under its row lock):
/// none unless the editor asked for a change from the value on hand.
fn stock_to_write(v: &ValidVariant, on_hand: i32) -> Result<Option<i32>, AppError> {
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

/// An order after an admin action.
#[derive(Clone, Debug)]
pub struct OrderChange {
    pub order: Order,
    /// A refund is recorded but the provider has not confirmed it yet; it completes by
    /// itself, and the order moves on then.
    pub refund_pending: bool,
}

impl OrderChange {
    fn done(order: Order) -> Self {
        OrderChange {
            order,
            refund_pending: false,
        }
    }
}

/// The admin service.
#[derive(Clone)]
pub struct Admin {
    db: PgPool,
    catalog: Catalog,
    orders: Orders,
    payments: Payments,
}

impl Admin {
    /// The service over the shared pool and sibling services.
    pub fn new(db: PgPool, catalog: Catalog, orders: Orders, payments: Payments) -> Self {
        Admin {
            db,
            catalog,
            orders,
            payments,
        }
    }

    // ---- products -------------------------------------------------------------------

    /// Products, archived ones too, optionally filtered by text, category and status.
    pub async fn products(
        &self,
        q: Option<&str>,
        category: Option<&str>,
        active: Option<bool>,
    ) -> Result<Vec<AdminProduct>, AppError> {
        let pattern = q.map(|q| format!("%{}%", q.trim().replace('%', "\\%").replace('_', "\\_")));
        let slugs = sqlx::query_scalar!(
            r#"SELECT p.slug FROM products p JOIN categories c ON c.id = p.category_id
               WHERE ($1::text IS NULL OR p.name ILIKE $1 OR p.slug ILIKE $1
                      OR EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.sku ILIKE $1))
                 AND ($2::text IS NULL OR c.slug = $2)
                 AND ($3::bool IS NULL OR p.active = $3)
               ORDER BY p.updated_at DESC LIMIT 200"#,
            pattern,
            category,
            active
        )
        .fetch_all(&self.db)
        .await?;
        let mut out = Vec::with_capacity(slugs.len());
        for slug in slugs {
            if let Some(p) = self.product(&slug).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// One product by slug, archived or not.
    pub async fn product(&self, slug: &str) -> Result<Option<AdminProduct>, AppError> {
        let Some(p) = sqlx::query!(
            r#"SELECT p.id, p.slug, p.name, p.description, c.slug AS category, p.active, p.image_url,
                      p.thumb_url, p.updated_at
               FROM products p JOIN categories c ON c.id = p.category_id WHERE p.slug = $1"#,
            slug
        )
        .fetch_optional(&self.db)
        .await?
        else {
            return Ok(None);
        };
        let variants = sqlx::query!(
            "SELECT sku, name, price_amount, currency, stock FROM variants WHERE product_id = $1 ORDER BY position, id",
            p.id
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|v| AdminVariant {
            sku: v.sku,
            name: v.name,
            price: money(v.price_amount, &v.currency),
            stock: i64::from(v.stock),
        })
        .collect();
        Ok(Some(AdminProduct {
            slug: p.slug,
            name: p.name,
            description: p.description,
            category: p.category,
            active: p.active,
            image_url: p.image_url,
            thumb_url: p.thumb_url,
            variants,
            updated_at: rfc3339(p.updated_at),
        }))
    }

    /// One product or 404.
    pub async fn product_or_404(&self, slug: &str) -> Result<AdminProduct, AppError> {
        self.product(slug)
            .await?
            .ok_or_else(|| AppError::not_found("product"))
    }

    async fn category_id(tx: &mut PgConnection, slug: &Slug) -> Result<i64, AppError> {
        sqlx::query_scalar!("SELECT id FROM categories WHERE slug = $1", slug.as_str())
            .fetch_optional(tx)
            .await?
            .ok_or_else(|| {
                AppError::invalid_field("category", format!("There is no category `{slug}`."))
            })
    }

    /// Creates a product with its variants. Without a slug one is made from the name
    /// (with `-2`, `-3`… when taken); an explicit slug that is taken is a 409.
    pub async fn create_product(
        &self,
        actor: &Actor,
        input: &ValidProduct,
    ) -> Result<AdminProduct, AppError> {
        let mut tx = self.db.begin().await?;
        let category = Self::category_id(&mut tx, &input.category).await?;
        let slug = match &input.slug {
            Some(s) => s.as_str().to_owned(),
            None => Self::free_slug(&mut tx, &input.name).await?,
        };
        let id = sqlx::query_scalar!(
            "INSERT INTO products (slug, name, description, category_id, active) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            slug,
            input.name,
            input.description,
            category,
            input.active
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| clash(e, &slug))?;
        for (position, v) in input.variants.iter().enumerate() {
            Self::add_variant(&mut tx, actor, id, v, position, &slug).await?;
        }
        let event = json!({"slug": slug, "change": "created"});
        self.publish(
            tx,
            actor,
            "product.create",
            &slug,
            json!({"name": input.name}),
            event,
        )
        .await?;
        self.product_or_404(&slug).await
    }

    /// Finishes a product change: the audit entry and the `product_updated` event commit
    /// with it, then the catalog cache forgets what it knew.
    async fn publish(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        actor: &Actor,
        action: &str,
        slug: &str,
        details: Value,
        event: Value,
    ) -> Result<(), AppError> {
        audit(&mut tx, actor, action, slug, details).await?;
        outbox::enqueue(&mut tx, outbox::topics::PRODUCT_UPDATED, event).await?;
        tx.commit().await?;
        self.catalog.invalidate();
        Ok(())
    }

    /// A new variant, with its opening stock in the inventory trail. `position` also
    /// names the variant's row when its stock is missing (422).
    async fn add_variant(
        tx: &mut PgConnection,
        actor: &Actor,
        product: i64,
        v: &ValidVariant,
        position: usize,
        slug: &str,
    ) -> Result<(), AppError> {
        let stock = v.stock.ok_or_else(|| {
            AppError::invalid_field(
                &format!("variants[{position}].stock"),
                "is required for a new variant",
            )
        })?;
        Self::insert_variant(tx, product, v, stock, position)
            .await
            .map_err(|e| clash(e, slug))?;
        if stock > 0 {
            Self::record_stock(tx, actor, v.sku.as_str(), stock, stock, "initial stock").await?;
        }
        Ok(())
    }

    async fn free_slug(tx: &mut PgConnection, name: &str) -> Result<String, AppError> {
        let base = Slug::from_name(name).map_err(|e| {
            AppError::invalid_field("name", format!("Cannot make a slug from this name: {e}"))
        })?;
        for n in 1..100 {
            let candidate = if n == 1 {
                base.as_str().to_owned()
            } else {
                format!("{base}-{n}")
            };
            let taken = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM products WHERE slug = $1) AS "e!""#,
                candidate
            )
            .fetch_one(&mut *tx)
            .await?;
            if !taken {
                return Ok(candidate);
            }
        }
        Err(AppError::Conflict(
            "Choose a slug: every generated one is taken.".to_owned(),
        ))
    }

    async fn insert_variant(
        tx: &mut PgConnection,
        product: i64,
        v: &ValidVariant,
        stock: i32,
        position: usize,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO variants (product_id, sku, name, price_amount, currency, stock, position) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            product,
            v.sku.as_str(),
            v.name,
            v.price.amount,
            v.price.currency.as_str(),
            stock,
            i32::try_from(position).unwrap_or(i32::MAX)
        )
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn record_stock(
        tx: &mut PgConnection,
        actor: &Actor,
        sku: &str,
        delta: i32,
        after: i32,
        reason: &str,
    ) -> Result<(), AppError> {
        sqlx::query!(
            r#"INSERT INTO inventory_adjustments (sku, delta, stock_after, reason, actor_id, actor_email)
               VALUES ($1, $2, $3, $4, $5, $6)"#,
            sku,
            delta,
            after,
            reason,
            actor.id,
            actor.email
        )
        .execute(tx)
        .await?;
        Ok(())
    }

    /// Applies a partial edit. A variant list replaces the old one by SKU. Stock on hand
    /// is only ever compare-and-set (see [`types::admin::VariantInput`]): a sale made
    /// while the editor was open is never overwritten, and a mismatch is a 409 that
    /// writes nothing. A removed variant leaves its stock history in the trail.
    pub async fn update_product(
        &self,
        actor: &Actor,
        slug: &str,
        patch: &ProductEdit,
    ) -> Result<AdminProduct, AppError> {
        let mut tx = self.db.begin().await?;
        let current = sqlx::query!(
            "SELECT id, slug FROM products WHERE slug = $1 FOR UPDATE",
            slug
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("product"))?;
        let new_slug = patch
            .slug
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or(current.slug.clone());
        let category = match &patch.category {
            Some(c) => Some(Self::category_id(&mut tx, c).await?),
            None => None,
        };
        sqlx::query!(
            r#"UPDATE products SET slug = $2, name = COALESCE($3, name), description = COALESCE($4, description),
                                   category_id = COALESCE($5, category_id), active = COALESCE($6, active)
               WHERE id = $1"#,
            current.id,
            new_slug,
            patch.name,
            patch.description,
            category,
            patch.active
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| clash(e, &new_slug))?;
        if let Some(variants) = &patch.variants {
            let keep: Vec<String> = variants.iter().map(|v| v.sku.as_str().to_owned()).collect();
            let removed = sqlx::query!(
                "DELETE FROM variants WHERE product_id = $1 AND sku <> ALL($2) RETURNING sku, stock",
                current.id,
                &keep
            )
            .fetch_all(&mut *tx)
            .await?;
            for gone in removed.iter().filter(|r| r.stock > 0) {
                Self::record_stock(&mut tx, actor, &gone.sku, -gone.stock, 0, "variant removed")
                    .await?;
            }
            for (position, v) in variants.iter().enumerate() {
                let before = sqlx::query!(
                    "SELECT product_id, stock FROM variants WHERE sku = $1 FOR UPDATE",
                    v.sku.as_str()
                )
                .fetch_optional(&mut *tx)
                .await?;
                match before {
                    Some(b) if b.product_id != current.id => {
                        return Err(AppError::Conflict(format!(
                            "SKU {} belongs to another product.",
                            v.sku
                        )));
                    }
                    Some(b) => {
                        let stock = stock_to_write(v, b.stock)?;
                        sqlx::query!(
                            "UPDATE variants SET name = $2, price_amount = $3, currency = $4, stock = COALESCE($5, stock), position = $6 WHERE sku = $1",
                            v.sku.as_str(),
                            v.name,
                            v.price.amount,
                            v.price.currency.as_str(),
                            stock,
                            i32::try_from(position).unwrap_or(i32::MAX)
                        )
                        .execute(&mut *tx)
                        .await?;
                        if let Some(stock) = stock {
                            Self::record_stock(
                                &mut tx,
                                actor,
                                v.sku.as_str(),
                                stock - b.stock,
                                stock,
                                "set in product edit",
                            )
                            .await?;
                        }
                    }
                    None => {
                        Self::add_variant(&mut tx, actor, current.id, v, position, &new_slug)
                            .await?;
                    }
                }
            }
        }
        let event = json!({"slug": new_slug, "previous_slug": current.slug, "change": "updated"});
        let details = json!({"from": current.slug});
        self.publish(tx, actor, "product.update", &new_slug, details, event)
            .await?;
        self.product_or_404(&new_slug).await
    }

    /// Takes a product off the storefront; its orders keep their lines.
    pub async fn archive_product(&self, actor: &Actor, slug: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        let found = sqlx::query_scalar!(
            "UPDATE products SET active = false WHERE slug = $1 RETURNING id",
            slug
        )
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(AppError::not_found("product"));
        }
        let event = json!({"slug": slug, "change": "archived"});
        self.publish(tx, actor, "product.archive", slug, json!({}), event)
            .await
    }

    /// Points the product at freshly stored image renditions.
    pub async fn set_product_image(
        &self,
        actor: &Actor,
        slug: &str,
        image_url: &str,
        thumb_url: &str,
    ) -> Result<AdminProduct, AppError> {
        let mut tx = self.db.begin().await?;
        let found = sqlx::query_scalar!(
            "UPDATE products SET image_url = $2, thumb_url = $3 WHERE slug = $1 RETURNING id",
            slug,
            image_url,
            thumb_url
        )
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(AppError::not_found("product"));
        }
        let event = json!({"slug": slug, "change": "image"});
        self.publish(
            tx,
            actor,
            "product.image",
            slug,
            json!({"image_url": image_url}),
            event,
        )
        .await?;
        self.product_or_404(slug).await
    }

    // ---- inventory ------------------------------------------------------------------

    /// Adds `delta` to a SKU's stock with a reason. Stock never goes below zero (409),
    /// however many adjustments race: the change is one conditional UPDATE.
    pub async fn adjust_stock(
        &self,
        actor: &Actor,
        sku: &str,
        delta: i32,
        reason: &str,
    ) -> Result<i64, AppError> {
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
        self.catalog.invalidate();
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

    // ---- orders ---------------------------------------------------------------------

    /// Orders, newest first, by status and creation date (`YYYY-MM-DD`, inclusive).
    pub async fn orders(
        &self,
        status: Option<OrderStatus>,
        from: Option<time::Date>,
        to: Option<time::Date>,
    ) -> Result<Vec<AdminOrderSummary>, AppError> {
        let rows = sqlx::query!(
            r#"SELECT o.id, o.status, o.email, o.total_amount, o.currency, o.created_at, o.review_reason,
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
        Ok(rows
            .into_iter()
            .map(|r| AdminOrderSummary {
                id: r.id.to_string(),
                status: OrderStatus::parse(&r.status).unwrap_or(OrderStatus::PendingPayment),
                email: r.email,
                total: money(r.total_amount, &r.currency),
                item_count: r.items,
                created_at: rfc3339(r.created_at),
                review_reason: r.review_reason,
            })
            .collect())
    }

    /// One order with its review flag and status history.
    pub async fn order(
        &self,
        id: &str,
    ) -> Result<(Order, Option<String>, Vec<(String, String, String)>), AppError> {
        let order = self
            .orders
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

    async fn move_order(
        &self,
        actor: &Actor,
        id: &str,
        next: OrderStatus,
        reason: &str,
        extra: impl AsyncFnOnce(&mut PgConnection, Uuid) -> Result<(), AppError>,
    ) -> Result<Order, AppError> {
        let uuid = Uuid::parse_str(id).map_err(|_| AppError::not_found("order"))?;
        let mut tx = self.db.begin().await?;
        let moved =
            crate::audit::move_order_in(&mut tx, actor, uuid, next, reason, json!({})).await?;
        if let Err(current) = moved {
            return Err(AppError::Conflict(format!(
                "An order that is {current} cannot become {}.",
                next.as_str()
            )));
        }
        extra(&mut tx, uuid).await?;
        tx.commit().await?;
        self.orders
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))
    }

    /// `paid → shipped` with the carrier's tracking number; the shopper is emailed.
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

    /// Cancels an order before it ships and gives its stock back. An unpaid order's
    /// payment page is closed first; a paid one is refunded through the provider, and
    /// becomes cancelled once the money is back (see [`Payments::refund_order`]).
    pub async fn cancel(&self, actor: &Actor, id: &str) -> Result<OrderChange, AppError> {
        let order = self
            .orders
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))?;
        match order.status {
            OrderStatus::PendingPayment => {
                self.payments.close_session(id).await?;
                let order = self
                    .move_order(
                        actor,
                        id,
                        OrderStatus::Cancelled,
                        "cancelled by the shop",
                        async |_, _| Ok(()),
                    )
                    .await?;
                Ok(OrderChange::done(order))
            }
            OrderStatus::Paid => {
                self.refund_into(
                    actor,
                    id,
                    OrderStatus::Cancelled,
                    "cancelled and refunded by the shop",
                )
                .await
            }
            other => Err(AppError::Conflict(format!(
                "An order that is {} cannot be cancelled.",
                other.as_str()
            ))),
        }
    }

    /// Refunds a paid, shipped or delivered order in full, through the provider. The
    /// refund is recorded before the provider is called and finishes by itself if the
    /// provider is slow or down (see [`Payments::refund_order`]).
    pub async fn refund(&self, actor: &Actor, id: &str) -> Result<OrderChange, AppError> {
        self.refund_into(actor, id, OrderStatus::Refunded, "refunded by the shop")
            .await
    }

    async fn refund_into(
        &self,
        actor: &Actor,
        id: &str,
        then: OrderStatus,
        reason: &str,
    ) -> Result<OrderChange, AppError> {
        let uuid = Uuid::parse_str(id).map_err(|_| AppError::not_found("order"))?;
        let progress = self
            .payments
            .refund_order(actor, uuid, then, reason)
            .await?;
        let order = self
            .orders
            .get(id)
            .await?
            .ok_or_else(|| AppError::not_found("order"))?;
        Ok(OrderChange {
            order,
            refund_pending: progress == RefundProgress::Pending,
        })
    }

    // ---- customers ------------------------------------------------------------------

    /// Customers with their order count and spend, newest first.
    pub async fn customers(&self, q: Option<&str>) -> Result<Vec<CustomerSummary>, AppError> {
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
            id: r.id.to_string(),
            email: r.email,
            name: r.name,
            is_admin: r.role == "admin",
            orders: r.orders,
            spent: money(r.spent, "USD"),
            created_at: rfc3339(r.created_at),
        })
        .collect())
    }

    /// Grants or revokes the admin role. The last admin cannot be revoked (409): the
    /// admins are locked first, so two revocations cannot race past the check.
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

    // ---- audit log and dashboard ----------------------------------------------------

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
                revenue: money(r.revenue, "USD"),
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
        let mut recent = self.orders(None, None, None).await?;
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
