//! The order service: placing orders (one transaction that prices, reserves stock and
//! records the `order_created` event), reading them, moving them through the status
//! machine, and expiring unpaid ones.

use crate::coherence::Announcer;
use crate::outbox;
use crate::promotions::{self, Customer, Verdict};
use moves::release_stock;
use serde_json::json;
use sqlx::PgPool;
use types::{
    Address, AppError, Email, Money, Order, OrderLine, OrderStatus, ShippingMethod, UserId,
};
use uuid::Uuid;

mod listing;
mod moves;
mod pricing;

pub use moves::{move_order_in, transition_in, Transition};
pub use pricing::{subtotal, too_large, Pricing, Totals};

/// A validated checkout.
#[derive(Clone, Debug)]
pub struct PlaceOrder {
    /// Who may replay this checkout: `user:{id}` or `guest:{session}`.
    pub scope: String,
    /// The signed-in buyer, if any.
    pub user_id: Option<UserId>,
    /// Where the confirmation goes.
    pub email: Email,
    /// Where the order ships.
    pub address: Address,
    /// Standard or express.
    pub method: ShippingMethod,
    /// The same key places one order.
    pub idempotency_key: types::IdempotencyKey,
    /// The cart's lines.
    pub lines: Vec<types::CartLine>,
    /// The cart's discount code, checked again and redeemed in the order's transaction.
    pub discount_code: Option<types::promotions::PromotionCode>,
}

/// The result of placing an order.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The order, new or the one placed earlier with the same key.
    pub order: Order,
    /// False when an earlier request with the same key already placed it.
    pub created: bool,
}

/// Orders on Postgres.
#[derive(Clone)]
pub struct Orders {
    db: PgPool,
    /// Shipping and tax rules.
    pub pricing: Pricing,
    announcer: Announcer,
}

impl Orders {
    /// The service; `announcer` tells the other replicas about each placed order.
    pub fn new(db: PgPool, pricing: Pricing, announcer: Announcer) -> Self {
        Orders {
            db,
            pricing,
            announcer,
        }
    }

    /// Places an order, all or nothing. Stock is taken with a conditional decrement per
    /// line (in SKU order, so concurrent checkouts never deadlock); if any line is short,
    /// nothing is reserved and the 409 names every short line.
    ///
    /// The commit does not wait for the disk: the next synchronous commit flushes the WAL
    /// past it, and [`crate::checkout::Checkout::place`] answers only after one (the
    /// payment session's). A crash in between loses an order no shopper was told of.
    #[tracing::instrument(name = "orders.place", skip_all, fields(scope = %input.scope, lines = input.lines.len()))]
    pub async fn place(&self, input: &PlaceOrder) -> Result<Placed, AppError> {
        if let Some(existing) = self
            .by_key(&input.scope, input.idempotency_key.as_str())
            .await?
        {
            return Ok(existing);
        }
        if input.lines.is_empty() {
            return Err(AppError::BadRequest("Your cart is empty.".to_owned()));
        }
        let mut lines = input.lines.clone();
        lines.sort();
        let skus: Vec<String> = lines.iter().map(|l| l.sku.to_string()).collect();
        let mut tx = self.db.begin().await?;
        // For this transaction only: no NOTIFY at commit (that would queue every checkout
        // behind one lock; the announcer tells the replicas just after), and a commit that
        // does not wait for its WAL flush, so a popular SKU's row unlocks at once.
        sqlx::query_scalar!(
            r#"SELECT set_config('bazaar.notify', 'deferred', true)
                      || set_config('synchronous_commit', 'off', true) AS "set!""#
        )
        .fetch_one(&mut *tx)
        .await?;
        let prices = sqlx::query!(
            r#"SELECT v.sku, p.name AS product, v.name AS variant, v.price_amount, v.currency
               FROM variants v JOIN products p ON p.id = v.product_id
               WHERE v.sku = ANY($1) AND p.active"#,
            &skus
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut priced = Vec::with_capacity(lines.len());
        let mut missing = Vec::new();
        for line in &lines {
            let (sku, qty) = (line.sku.to_string(), i64::from(line.quantity.get()));
            match prices.iter().find(|p| p.sku == sku) {
                Some(p) => {
                    let name = if p.variant == "Standard" {
                        p.product.clone()
                    } else {
                        format!("{} — {}", p.product, p.variant)
                    };
                    priced.push((sku, name, qty, p.price_amount, p.currency.clone()));
                }
                None => missing.push(sku),
            }
        }
        if !missing.is_empty() {
            return Err(AppError::Conflict(format!(
                "No longer sold: {}. Remove it from your cart.",
                missing.join(", ")
            )));
        }
        let currency = priced
            .first()
            .map(|p| p.4.clone())
            .unwrap_or_else(|| "USD".to_owned());
        if priced.iter().any(|p| p.4 != currency) {
            return Err(AppError::Conflict("The cart mixes currencies.".to_owned()));
        }
        let subtotal = subtotal(priced.iter().map(|p| (p.2, p.3)))?;
        let customer = Customer {
            user_id: input.user_id.map(UserId::get),
            email: Some(input.email.as_str()),
        };
        // The code is read again here, with the prices this order is placed at.
        let evaluation = match &input.discount_code {
            None => None,
            Some(code) => {
                let lines: Vec<(String, i64)> = priced
                    .iter()
                    .map(|p| Ok((p.0.clone(), p.2.checked_mul(p.3).ok_or_else(too_large)?)))
                    .collect::<Result<_, AppError>>()?;
                let now = time::OffsetDateTime::now_utc();
                match promotions::evaluate(&mut tx, code, &lines, customer, now).await? {
                    Verdict::Applies(e) => Some(e),
                    Verdict::Refused(r) => return Err(r.at_checkout(code)),
                    Verdict::Unknown => {
                        return Err(AppError::Conflict(format!(
                            "The code {code} no longer exists. Remove it from your cart to go on."
                        )))
                    }
                }
            }
        };
        let (discount, free_shipping) = evaluation
            .as_ref()
            .map_or((0, false), |e| (e.applied.goods, e.applied.free_shipping));
        let shipping_charge = if free_shipping {
            0
        } else {
            self.pricing.shipping(input.method)
        };
        let Totals {
            subtotal,
            discount,
            shipping,
            tax,
            total,
        } = self.pricing.totals(subtotal, discount, shipping_charge)?;
        let user_id = input.user_id.map(UserId::get);
        let hold = i64::try_from(self.pricing.hold.as_secs()).unwrap_or(1800);

        let order_id = sqlx::query_scalar!(
            r#"INSERT INTO orders (user_id, email, currency, subtotal_amount, shipping_amount, tax_amount,
                                   total_amount, shipping_method, shipping_address, idempotency_scope,
                                   idempotency_key, expires_at, trace_parent, discount_code,
                                   discount_amount, free_shipping)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() + make_interval(secs => $12::bigint), $13,
                       $14, $15, $16)
               ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING
               RETURNING id"#,
            user_id,
            input.email.as_str(),
            currency,
            subtotal,
            shipping,
            tax,
            total,
            input.method.as_str(),
            json!(input.address),
            input.scope,
            input.idempotency_key.as_str(),
            hold,
            crate::trace::current(),
            evaluation.as_ref().map(|e| e.code.as_str()),
            discount,
            free_shipping,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(order_id) = order_id else {
            // A concurrent request with the same key committed first: answer with its order.
            tx.rollback().await?;
            return self
                .by_key(&input.scope, input.idempotency_key.as_str())
                .await?
                .ok_or_else(|| {
                    AppError::Conflict(
                        "This checkout is already being processed; retry shortly.".to_owned(),
                    )
                });
        };

        let (l_skus, l_names, l_qty, l_unit): (Vec<_>, Vec<_>, Vec<_>, Vec<_>) =
            priced.iter().fold(
                (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
                |mut acc, (sku, name, qty, unit, _)| {
                    acc.0.push(sku.clone());
                    acc.1.push(name.clone());
                    acc.2.push(i32::try_from(*qty).unwrap_or(0));
                    acc.3.push(*unit);
                    acc
                },
            );
        let l_discount: Vec<i64> = match &evaluation {
            Some(e) => e.applied.per_line.clone(),
            None => vec![0; l_skus.len()],
        };
        sqlx::query!(
            r#"INSERT INTO order_lines (order_id, sku, name, quantity, unit_amount, discount_amount)
               SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[])"#,
            order_id,
            &l_skus,
            &l_names,
            &l_qty,
            &l_unit,
            &l_discount
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO order_status_changes (order_id, from_status, to_status, reason) VALUES ($1, NULL, 'pending_payment', 'checkout')",
            order_id
        )
        .execute(&mut *tx)
        .await?;
        outbox::enqueue(
            &mut tx,
            outbox::topics::ORDER_CREATED,
            json!({ "order_id": order_id.to_string(), "email": input.email.as_str(), "total": total, "currency": currency }),
        )
        .await?;
        // The stock comes last: a popular SKU's row stays locked from its decrement to the
        // commit, so everything that does not need the lock is written before taking it.
        let mut short = Vec::new();
        for (sku, _, qty, _, _) in &priced {
            let qty = i32::try_from(*qty)
                .map_err(|_| AppError::BadRequest("quantity too large".to_owned()))?;
            let taken = sqlx::query_scalar!(
                "UPDATE variants SET stock = stock - $2 WHERE sku = $1 AND stock >= $2 RETURNING stock",
                sku,
                qty
            )
            .fetch_optional(&mut *tx)
            .await?;
            if taken.is_none() {
                let left = sqlx::query_scalar!("SELECT stock FROM variants WHERE sku = $1", sku)
                    .fetch_one(&mut *tx)
                    .await?;
                short.push(format!("{sku} ({left} available, {qty} wanted)"));
            }
        }
        if !short.is_empty() {
            tx.rollback().await?;
            return Err(AppError::Conflict(format!(
                "Not enough stock for: {}.",
                short.join("; ")
            )));
        }
        // The code's use is counted last, after the stock (the order release takes them in),
        // so its row is locked only from here to the commit. Used up: nothing is kept.
        if let Some(e) = &evaluation {
            promotions::redeem(&mut tx, e, order_id, customer).await?;
        }

        tx.commit().await?;
        self.announcer.committed();
        let order = self
            .get(&order_id.to_string())
            .await?
            .ok_or_else(|| AppError::internal("checkout", "order vanished"))?;
        Ok(Placed {
            order,
            created: true,
        })
    }

    async fn by_key(&self, scope: &str, key: &str) -> Result<Option<Placed>, AppError> {
        let found = sqlx::query_scalar!(
            "SELECT id FROM orders WHERE idempotency_scope = $1 AND idempotency_key = $2",
            scope,
            key
        )
        .fetch_optional(&self.db)
        .await?;
        let Some(found) = found else { return Ok(None) };
        let order = self
            .get(&found.to_string())
            .await?
            .ok_or_else(|| AppError::internal("checkout", "order vanished"))?;
        Ok(Some(Placed {
            order,
            created: false,
        }))
    }

    /// One order by id, whoever owns it (callers check ownership).
    pub async fn get(&self, id: &str) -> Result<Option<Order>, AppError> {
        Self::get_with(&self.db, id).await
    }

    /// [`Orders::get`] on any pool, for event handlers that hold no service.
    pub async fn get_with(db: &PgPool, id: &str) -> Result<Option<Order>, AppError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let Some(o) = sqlx::query!(
            r#"SELECT id, status AS "status: OrderStatus", currency, subtotal_amount, shipping_amount, tax_amount, total_amount, created_at,
                      email, shipping_method, shipping_address, tracking_number, payment_url, payment_error,
                      discount_code, discount_amount, free_shipping
               FROM orders WHERE id = $1"#,
            id
        )
        .fetch_optional(db)
        .await?
        else {
            return Ok(None);
        };
        let currency = Money::from_row(0, &o.currency)?.currency;
        let lines = sqlx::query!("SELECT sku, name, quantity, unit_amount, discount_amount FROM order_lines WHERE order_id = $1 ORDER BY sku", id)
            .fetch_all(db)
            .await?
            .into_iter()
            .map(|l| OrderLine {
                sku: l.sku,
                name: l.name,
                quantity: i64::from(l.quantity),
                unit_price: Money::new(l.unit_amount, currency),
                discount: (l.discount_amount > 0).then(|| Money::new(l.discount_amount, currency)),
            })
            .collect();
        let discount = o.discount_code.map(|code| types::promotions::Discount {
            label: if o.free_shipping {
                "Free shipping".to_owned()
            } else {
                format!("{} off", Money::new(o.discount_amount, currency))
            },
            code,
            amount: Money::new(o.discount_amount, currency),
            free_shipping: o.free_shipping,
        });
        Ok(Some(Order {
            id: o.id.into(),
            status: o.status,
            lines,
            subtotal: Money::new(o.subtotal_amount, currency),
            discount,
            shipping: Money::new(o.shipping_amount, currency),
            tax: Money::new(o.tax_amount, currency),
            total: Money::new(o.total_amount, currency),
            created_at: o
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            email: o.email,
            shipping_method: ShippingMethod::parse(&o.shipping_method)
                .unwrap_or(ShippingMethod::Standard),
            shipping_address: serde_json::from_value(o.shipping_address).unwrap_or_default(),
            tracking_number: o.tracking_number,
            payment_url: (o.status == OrderStatus::PendingPayment)
                .then_some(o.payment_url)
                .flatten(),
            payment_error: (o.status == OrderStatus::PendingPayment)
                .then_some(o.payment_error)
                .flatten(),
        }))
    }

    /// Whether `viewer_scope` (`user:{id}` or `guest:{session}`) may see order `id`.
    pub async fn visible_to(
        &self,
        id: &str,
        user_id: Option<&UserId>,
        guest_scope: Option<&str>,
    ) -> Result<Option<Order>, AppError> {
        let Ok(uuid) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let owner = sqlx::query!(
            "SELECT user_id, idempotency_scope FROM orders WHERE id = $1",
            uuid
        )
        .fetch_optional(&self.db)
        .await?;
        let Some(owner) = owner else { return Ok(None) };
        let mine = match (owner.user_id, user_id) {
            (Some(o), Some(u)) => o == u.get(),
            (None, _) => guest_scope.is_some_and(|g| g == owner.idempotency_scope),
            _ => false,
        };
        if mine {
            self.get(id).await
        } else {
            Ok(None)
        }
    }

    /// A user's orders, newest first.
    pub async fn for_user(&self, user_id: &UserId) -> Result<Vec<Order>, AppError> {
        let uid = user_id.get();
        let ids = sqlx::query_scalar!(
            "SELECT id FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 100",
            uid
        )
        .fetch_all(&self.db)
        .await?;
        let mut orders = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(o) = self.get(&id.to_string()).await? {
                orders.push(o);
            }
        }
        Ok(orders)
    }

    /// Cancels unpaid orders past their hold that never got a payment session, and gives
    /// their stock back, exactly once even with several workers: rows are claimed with
    /// `SKIP LOCKED` and only released orders get `stock_released_at`. An order with a
    /// session is cancelled only once the provider confirms it closed (see
    /// `Payments::expire_overdue`): until then it could still be paid. Returns how many
    /// orders expired.
    pub async fn expire_unpaid(&self) -> Result<usize, AppError> {
        let mut tx = self.db.begin().await?;
        let expired = sqlx::query_scalar!(
            r#"UPDATE orders SET status = 'cancelled'
               WHERE id IN (SELECT id FROM orders
                            WHERE status = 'pending_payment' AND expires_at < now() AND stock_released_at IS NULL
                              AND payment_session IS NULL
                              AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.id
                                              AND p.status IN ('paid', 'refunded', 'review'))
                            ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED)
               RETURNING id"#
        )
        .fetch_all(&mut *tx)
        .await?;
        if expired.is_empty() {
            return Ok(0);
        }
        release_stock(&mut tx, &expired).await?;
        sqlx::query!(
            r#"INSERT INTO order_status_changes (order_id, from_status, to_status, reason)
               SELECT id, 'pending_payment', 'cancelled', 'payment window expired' FROM UNNEST($1::uuid[]) AS t(id)"#,
            &expired
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(count = expired.len(), "expired unpaid orders");
        Ok(expired.len())
    }
}
