//! The cart service: carts in Redis (a hash of SKU → quantity per owner, and the discount
//! code beside it, idle for at most 30 days), priced from Postgres on every read.

use crate::promotions::{Customer, Promotions, Verdict};
use crate::redis::Redis;
use redis::AsyncCommands;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use types::promotions::{ApplyCode, PromotionCode};
use types::{AddToCart, AppError, Cart, CartItem, CartLine, Currency, Money, Quantity, Sku};

/// How long an untouched cart lives.
pub const CART_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Whose cart: a signed-in user's, or a guest session's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartOwner {
    /// A signed-in user's cart, by user id.
    User(types::UserId),
    /// A guest's cart, by the random id kept in their session.
    Guest(String),
}

impl CartOwner {
    /// Who may replay this owner's checkout: `user:{id}` or `guest:{cart id}`.
    pub fn checkout_scope(&self) -> String {
        match self {
            CartOwner::User(id) => format!("user:{id}"),
            CartOwner::Guest(id) => format!("guest:{id}"),
        }
    }

    fn key(&self) -> String {
        match self {
            CartOwner::User(id) => format!("cart:user:{id}"),
            CartOwner::Guest(id) => format!("cart:guest:{id}"),
        }
    }

    /// Where the cart's discount code is kept.
    fn code_key(&self) -> String {
        format!("{}:code", self.key())
    }

    /// The buyer as far as the cart knows: a signed-in user (guests are known at checkout).
    fn customer(&self) -> Customer<'static> {
        Customer {
            user_id: match self {
                CartOwner::User(id) => Some(id.get()),
                CartOwner::Guest(_) => None,
            },
            email: None,
        }
    }
}

/// A variant as the cart needs it.
struct Priced {
    name: String,
    price: Money,
    available: i64,
    options: types::options::OptionValues,
}

/// Carts on Redis, prices and stock from Postgres.
#[derive(Clone)]
pub struct Carts {
    redis: Redis,
    db: PgPool,
    promotions: Promotions,
}

impl Carts {
    /// The service.
    pub fn new(redis: Redis, db: PgPool) -> Self {
        let promotions = Promotions::new(db.clone());
        Carts {
            redis,
            db,
            promotions,
        }
    }

    /// The stored lines in SKU order and the discount code, in one round trip. A field
    /// that is not a SKU and a quantity, or a code that cannot be one, which only a
    /// hand-edited Redis could hold, is skipped.
    async fn stored(
        &self,
        owner: &CartOwner,
    ) -> Result<(Vec<CartLine>, Option<PromotionCode>), AppError> {
        let mut conn = self.redis.conn().await?;
        let (map, code): (HashMap<String, i64>, Option<String>) = redis::pipe()
            .hgetall(self.redis.key(&owner.key()))
            .get(self.redis.key(&owner.code_key()))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.redis.failed(e))?;
        let code = code.and_then(|c| PromotionCode::parse(&c).ok());
        let mut lines: Vec<_> = map
            .into_iter()
            .filter_map(|(sku, q)| {
                Some(CartLine {
                    sku: Sku::parse(&sku).ok()?,
                    quantity: Quantity::new(q).ok()?,
                })
            })
            .collect();
        lines.sort();
        Ok((lines, code))
    }

    async fn priced(&self, skus: &[String]) -> Result<HashMap<String, Priced>, AppError> {
        let rows = sqlx::query!(
            r#"SELECT v.sku, p.name AS product, v.name AS variant, v.price_amount, v.currency, v.stock,
                      v.options AS "options: sqlx::types::Json<types::options::OptionValues>"
               FROM variants v JOIN products p ON p.id = v.product_id
               WHERE v.sku = ANY($1) AND p.active"#,
            skus
        )
        .fetch_all(&self.db)
        .await?;
        rows.into_iter()
            .map(|r| {
                let price = Money::from_row(r.price_amount, &r.currency)?;
                let name = if r.variant == "Standard" {
                    r.product
                } else {
                    format!("{} — {}", r.product, r.variant)
                };
                Ok((
                    r.sku,
                    Priced {
                        name,
                        price,
                        available: i64::from(r.stock),
                        options: r.options.0,
                    },
                ))
            })
            .collect()
    }

    /// The cart with current prices and its code's discount. Lines whose product was
    /// archived drop out; a code that no longer applies stays, with the reason in
    /// `discount_note`, until the shopper removes it.
    pub async fn view(&self, owner: &CartOwner) -> Result<Cart, AppError> {
        let (raw, code) = self.stored(owner).await?;
        let skus: Vec<String> = raw.iter().map(|l| l.sku.to_string()).collect();
        let priced = if skus.is_empty() {
            HashMap::new()
        } else {
            self.priced(&skus).await?
        };
        let mut items = Vec::with_capacity(raw.len());
        let mut subtotal = Money::new(0, Currency::USD);
        for CartLine { sku, quantity } in raw {
            let quantity = i64::from(quantity.get());
            let Some(p) = priced.get(sku.as_str()) else {
                continue;
            };
            let line_total = p.price.checked_mul(quantity).ok_or_else(types::too_large)?;
            if subtotal.currency != line_total.currency {
                return Err(AppError::internal("cart", "mixed currencies"));
            }
            subtotal = subtotal
                .checked_add(line_total)
                .ok_or_else(types::too_large)?;
            items.push(CartItem {
                sku: sku.to_string(),
                name: p.name.clone(),
                quantity,
                unit_price: p.price,
                line_total,
                available: p.available,
                options: p.options.clone(),
                discount: None,
            });
        }
        let item_count = items.iter().map(|l| l.quantity).sum();
        let mut cart = Cart {
            items,
            subtotal,
            item_count,
            discount: None,
            total: subtotal,
            discount_note: None,
        };
        if let Some(code) = code.filter(|_| !cart.items.is_empty()) {
            match self.verdict(owner, &code, &cart).await? {
                Verdict::Applies(e) => price_with(&mut cart, &e)?,
                Verdict::Refused(r) => cart.discount_note = Some(r.message(&code)),
                Verdict::Unknown => {
                    cart.discount_note = Some(format!("The code {code} no longer exists."));
                }
            }
        }
        Ok(cart)
    }

    /// Whether `code` applies to `cart`'s lines for `owner`, and what it takes off.
    async fn verdict(
        &self,
        owner: &CartOwner,
        code: &PromotionCode,
        cart: &Cart,
    ) -> Result<Verdict, AppError> {
        let lines: Vec<(String, i64)> = cart
            .items
            .iter()
            .map(|i| (i.sku.clone(), i.line_total.amount))
            .collect();
        self.promotions
            .evaluate(code, &lines, owner.customer())
            .await
    }

    /// Applies a discount code to the cart: 404 for a code no promotion has, 422 with
    /// the reason for one that does not apply to this cart now.
    #[tracing::instrument(skip_all)]
    pub async fn apply_code(&self, owner: &CartOwner, body: &ApplyCode) -> Result<Cart, AppError> {
        let unknown = || AppError::NotFound("That discount code does not exist.".to_owned());
        let code = PromotionCode::parse(&body.code).map_err(|_| unknown())?;
        let cart = self.view(owner).await?;
        match self.verdict(owner, &code, &cart).await? {
            Verdict::Unknown => return Err(unknown()),
            Verdict::Refused(r) => return Err(r.at_cart(&code)),
            Verdict::Applies(_) => {}
        }
        let mut conn = self.redis.conn().await?;
        let key = self.redis.key(&owner.code_key());
        conn.set_ex::<_, _, ()>(&key, code.as_str(), CART_TTL.as_secs())
            .await
            .map_err(|e| self.redis.failed(e))?;
        self.view(owner).await
    }

    /// Takes the discount code off the cart; a visitor without a cart gets the empty one.
    pub async fn remove_code(&self, owner: Option<&CartOwner>) -> Result<Cart, AppError> {
        let Some(owner) = owner else {
            return Ok(Cart::empty());
        };
        let mut conn = self.redis.conn().await?;
        conn.del::<_, ()>(self.redis.key(&owner.code_key()))
            .await
            .map_err(|e| self.redis.failed(e))?;
        self.view(owner).await
    }

    /// How many units of `sku` can be sold now; 404 when unknown or archived.
    async fn available(&self, sku: &Sku) -> Result<i64, AppError> {
        let priced = self.priced(&[sku.to_string()]).await?;
        priced
            .get(sku.as_str())
            .map(|p| p.available)
            .ok_or_else(|| AppError::not_found("product variant"))
    }

    async fn write(&self, owner: &CartOwner, sku: &Sku, quantity: i64) -> Result<(), AppError> {
        let mut conn = self.redis.conn().await?;
        let key = self.redis.key(&owner.key());
        let mut pipe = redis::pipe();
        if quantity > 0 {
            pipe.hset(&key, sku.as_str(), quantity).ignore();
        } else {
            pipe.hdel(&key, sku.as_str()).ignore();
        }
        pipe.expire(&key, CART_TTL.as_secs() as i64).ignore();
        // The code lives as long as its cart.
        pipe.expire(self.redis.key(&owner.code_key()), CART_TTL.as_secs() as i64)
            .ignore();
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.redis.failed(e))
    }

    async fn current(&self, owner: &CartOwner, sku: &Sku) -> Result<i64, AppError> {
        let mut conn = self.redis.conn().await?;
        let q: Option<i64> = conn
            .hget(self.redis.key(&owner.key()), sku.as_str())
            .await
            .map_err(|e| self.redis.failed(e))?;
        Ok(q.unwrap_or(0))
    }

    fn check_total(total: i64, available: i64) -> Result<(), AppError> {
        if total > i64::from(Quantity::MAX) {
            return Err(AppError::Validation {
                message: format!("A cart line holds at most {} units.", Quantity::MAX),
                fields: [(
                    "quantity".to_owned(),
                    vec!["must be between 1 and 99".to_owned()],
                )]
                .into(),
            });
        }
        if total > available {
            return Err(AppError::Conflict(format!("Only {available} available.")));
        }
        Ok(())
    }

    /// Adds `quantity` of `sku`: 404 unknown SKU, 422 over 99 in the line, 409 over stock.
    pub async fn add(
        &self,
        owner: &CartOwner,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<Cart, AppError> {
        let available = self.available(sku).await?;
        let total = self.current(owner, sku).await? + i64::from(quantity.get());
        Self::check_total(total, available)?;
        self.write(owner, sku, total).await?;
        self.view(owner).await
    }

    /// Sets the line to `quantity`; 0 removes it.
    pub async fn set(&self, owner: &CartOwner, sku: &Sku, quantity: i64) -> Result<Cart, AppError> {
        if quantity != 0 {
            Quantity::new(quantity)
                .map_err(|e| AppError::invalid_field("quantity", e.to_string()))?;
            let available = self.available(sku).await?;
            Self::check_total(quantity, available)?;
        }
        self.write(owner, sku, quantity).await?;
        self.view(owner).await
    }

    /// Removes the line.
    pub async fn remove(&self, owner: &CartOwner, sku: &Sku) -> Result<Cart, AppError> {
        self.write(owner, sku, 0).await?;
        self.view(owner).await
    }

    /// Empties the cart and takes its code off.
    pub async fn clear(&self, owner: &CartOwner) -> Result<(), AppError> {
        let mut conn = self.redis.conn().await?;
        conn.del::<_, ()>(vec![
            self.redis.key(&owner.key()),
            self.redis.key(&owner.code_key()),
        ])
        .await
        .map_err(|e| self.redis.failed(e))
    }

    /// The stored lines and discount code, for checkout, which prices both again in the
    /// order's own transaction.
    pub async fn contents(
        &self,
        owner: &CartOwner,
    ) -> Result<(Vec<CartLine>, Option<PromotionCode>), AppError> {
        self.stored(owner).await
    }

    // The use-cases both doors call, with input as it arrives.

    /// The cart of `owner`, or an empty one for a visitor who has none yet.
    pub async fn view_of(&self, owner: Option<&CartOwner>) -> Result<Cart, AppError> {
        match owner {
            Some(owner) => self.view(owner).await,
            None => Ok(Cart::empty()),
        }
    }

    /// Adds a line as asked: 422 for a quantity outside 1 to 99, 404 for an unknown SKU.
    #[tracing::instrument(skip_all, fields(sku = %item.sku, quantity = item.quantity))]
    pub async fn add_item(&self, owner: &CartOwner, item: &AddToCart) -> Result<Cart, AppError> {
        let quantity = Quantity::new(item.quantity)
            .map_err(|e| AppError::invalid_field("quantity", e.to_string()))?;
        self.add(owner, &known_sku(&item.sku)?, quantity).await
    }

    /// Sets a line's quantity as asked; 0 removes it, 422 outside 0 to 99, 404 for an
    /// unknown SKU.
    pub async fn set_item(
        &self,
        owner: &CartOwner,
        sku: &str,
        quantity: i64,
    ) -> Result<Cart, AppError> {
        if !(0..=i64::from(Quantity::MAX)).contains(&quantity) {
            return Err(AppError::invalid_field(
                "quantity",
                "quantity must be between 0 and 99",
            ));
        }
        self.set(owner, &known_sku(sku)?, quantity).await
    }

    /// Removes a line (404 for a malformed SKU); a visitor without a cart has nothing to
    /// remove and gets the empty cart.
    pub async fn remove_item(
        &self,
        owner: Option<&CartOwner>,
        sku: &str,
    ) -> Result<Cart, AppError> {
        let sku = known_sku(sku)?;
        match owner {
            Some(owner) => self.remove(owner, &sku).await,
            None => Ok(Cart::empty()),
        }
    }

    /// Moves a guest cart into the user's on login: quantities add up, capped at 99 and at
    /// what is available; the guest's code goes along unless the user's cart has one; the
    /// guest cart is deleted.
    pub async fn merge(&self, guest: &CartOwner, user: &CartOwner) -> Result<(), AppError> {
        let (guest_lines, guest_code) = self.stored(guest).await?;
        if let Some(code) = guest_code {
            let mut conn = self.redis.conn().await?;
            redis::cmd("SET")
                .arg(self.redis.key(&user.code_key()))
                .arg(code.as_str())
                .arg("NX")
                .arg("EX")
                .arg(CART_TTL.as_secs())
                .query_async::<Option<String>>(&mut conn)
                .await
                .map_err(|e| self.redis.failed(e))?;
        }
        if guest_lines.is_empty() {
            return self.clear(guest).await;
        }
        let skus: Vec<String> = guest_lines.iter().map(|l| l.sku.to_string()).collect();
        let priced = self.priced(&skus).await?;
        for CartLine { sku, quantity } in guest_lines {
            let Some(p) = priced.get(sku.as_str()) else {
                continue;
            };
            let total = (self.current(user, &sku).await? + i64::from(quantity.get()))
                .min(i64::from(Quantity::MAX))
                .min(p.available);
            if total > 0 {
                self.write(user, &sku, total).await?;
            }
        }
        self.clear(guest).await
    }
}

/// Puts an evaluated code's amounts on the cart: the discount, each covered line's share,
/// and the total.
fn price_with(cart: &mut Cart, evaluation: &crate::promotions::Evaluation) -> Result<(), AppError> {
    let currency = cart.subtotal.currency;
    for (item, share) in cart.items.iter_mut().zip(&evaluation.applied.per_line) {
        item.discount = (*share > 0).then(|| Money::new(*share, currency));
    }
    cart.total = Money::new(
        cart.subtotal
            .amount
            .checked_sub(evaluation.applied.goods)
            .ok_or_else(types::too_large)?,
        currency,
    );
    cart.discount = Some(evaluation.discount(currency));
    Ok(())
}

/// A SKU from a path or a body; one that cannot exist is the same 404 as an unknown one.
fn known_sku(raw: &str) -> Result<Sku, AppError> {
    Sku::parse(raw).map_err(|_| AppError::not_found("product variant"))
}
