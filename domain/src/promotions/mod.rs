//! Discount codes: whether a code applies to some lines and what it takes off (for the
//! cart, the checkout page and checkout alike), its redemption inside the order's own
//! transaction, and its use given back when the order is cancelled or expires.
//! The merchant's side (create, edit, switch off) is in [`admin`].

pub mod admin;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use types::promotions::{apply, Applied, Benefit, Discount, PromotionCode, Refusal};
use types::{AppError, Currency, Money};
use uuid::Uuid;

/// The merchant's promotions, on Postgres.
#[derive(Clone)]
pub struct Promotions {
    db: PgPool,
}

/// The terms a merchant sets on a code, as its columns hold them.
#[derive(Clone, Debug)]
struct Terms {
    benefit: Benefit,
    min_subtotal: Option<i64>,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
    usage_limit: Option<i32>,
    per_customer_limit: Option<i32>,
    skus: Vec<String>,
    categories: Vec<i64>,
    active: bool,
}

/// A stored promotion: its terms, and what checkout needs besides.
#[derive(Clone, Debug)]
struct Rules {
    id: i64,
    code: PromotionCode,
    currency: Currency,
    redeemed: i32,
    terms: Terms,
}

impl Rules {
    /// Why the code cannot be used at `now` by anyone, if it cannot.
    fn closed_at(&self, now: OffsetDateTime) -> Option<Refusal> {
        let t = &self.terms;
        if !t.active {
            Some(Refusal::Inactive)
        } else if t.starts_at.is_some_and(|s| s > now) {
            Some(Refusal::NotYetValid)
        } else if t.ends_at.is_some_and(|e| e <= now) {
            Some(Refusal::Expired)
        } else if t.usage_limit.is_some_and(|l| self.redeemed >= l) {
            Some(Refusal::UsedUp)
        } else {
            None
        }
    }
}

/// The stored kind and value as a [`Benefit`]; anything else is an internal error.
fn benefit_of(kind: &str, value: Option<i64>, currency: &str) -> Result<Benefit, AppError> {
    match (kind, value) {
        ("percent", Some(bps)) => Ok(Benefit::Percent(bps)),
        ("fixed", Some(amount)) => Money::from_row(amount, currency).map(Benefit::Fixed),
        ("free_shipping", _) => Ok(Benefit::FreeShipping),
        _ => Err(AppError::internal(
            "stored promotion",
            format!("kind {kind} with value {value:?}"),
        )),
    }
}

/// Who is buying, for the per-customer limit: a signed-in user, an email, or both.
#[derive(Clone, Copy, Debug, Default)]
pub struct Customer<'a> {
    /// The signed-in user.
    pub user_id: Option<Uuid>,
    /// The order's email (a guest's only identity).
    pub email: Option<&'a str>,
}

/// A code that applies to some lines: what it takes off each.
#[derive(Clone, Debug)]
pub struct Evaluation {
    promotion_id: i64,
    /// The code.
    pub code: PromotionCode,
    /// What it takes off.
    pub benefit: Benefit,
    /// Its amount, line by line.
    pub applied: Applied,
}

impl Evaluation {
    /// The discount as the cart and the order show it.
    pub fn discount(&self, currency: Currency) -> Discount {
        Discount {
            code: self.code.to_string(),
            amount: Money::new(self.applied.goods, currency),
            free_shipping: self.applied.free_shipping,
            label: self.benefit.describe(),
        }
    }
}

/// What looking a code up against some lines found.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// No promotion has this code.
    Unknown,
    /// It exists but does not apply, and why.
    Refused(Refusal),
    /// It applies.
    Applies(Evaluation),
}

async fn load(conn: &mut PgConnection, code: &PromotionCode) -> Result<Option<Rules>, AppError> {
    let Some(r) = sqlx::query!(
        r#"SELECT id, code, kind, value, currency, min_subtotal, starts_at, ends_at, usage_limit,
                  per_customer_limit, skus, active, redeemed,
                  ARRAY(SELECT category_id FROM promotion_categories WHERE promotion_id = p.id)
                    AS "categories!"
             FROM promotions p WHERE code = $1"#,
        code.as_str()
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Rules {
        id: r.id,
        code: PromotionCode::parse(&r.code).map_err(|e| AppError::internal("stored code", e))?,
        currency: Money::from_row(0, &r.currency)?.currency,
        redeemed: r.redeemed,
        terms: Terms {
            benefit: benefit_of(&r.kind, r.value, &r.currency)?,
            min_subtotal: r.min_subtotal,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            usage_limit: r.usage_limit,
            per_customer_limit: r.per_customer_limit,
            skus: r.skus,
            categories: r.categories,
            active: r.active,
        },
    }))
}

/// How many live orders of `customer` hold promotion `id`.
async fn uses_by(
    conn: &mut PgConnection,
    id: i64,
    customer: Customer<'_>,
) -> Result<i64, AppError> {
    if customer.user_id.is_none() && customer.email.is_none() {
        return Ok(0);
    }
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM promotion_redemptions
            WHERE promotion_id = $1 AND released_at IS NULL
              AND (user_id = $2 OR lower(email) = lower($3))"#,
        id,
        customer.user_id,
        customer.email
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Which of `skus` a scoped promotion covers: named SKUs, and products anywhere below a
/// named category.
async fn covered(
    conn: &mut PgConnection,
    terms: &Terms,
    skus: &[String],
) -> Result<Vec<String>, AppError> {
    if terms.skus.is_empty() && terms.categories.is_empty() {
        return Ok(skus.to_vec());
    }
    let rows = sqlx::query_scalar!(
        r#"WITH RECURSIVE scope AS (
               SELECT id FROM categories WHERE id = ANY($2::int8[])
               UNION
               SELECT c.id FROM categories c JOIN scope s ON c.parent_id = s.id)
           SELECT v.sku FROM variants v JOIN products p ON p.id = v.product_id
            WHERE v.sku = ANY($1::text[])
              AND (v.sku = ANY($3::text[]) OR p.category_id IN (SELECT id FROM scope))"#,
        skus,
        &terms.categories,
        &terms.skus,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// Whether `code` applies to `lines` (each a SKU and its line total in minor units) for
/// `customer` at `now`, and what it takes off. Used by the cart with a pool connection
/// and by checkout inside the order's transaction, so both read the same rules.
#[tracing::instrument(name = "promotions.evaluate", skip_all, fields(code = %code))]
pub async fn evaluate(
    conn: &mut PgConnection,
    code: &PromotionCode,
    lines: &[(String, i64)],
    customer: Customer<'_>,
    now: OffsetDateTime,
) -> Result<Verdict, AppError> {
    let Some(rules) = load(conn, code).await? else {
        return Ok(Verdict::Unknown);
    };
    if let Some(refusal) = rules.closed_at(now) {
        return Ok(Verdict::Refused(refusal));
    }
    if let Some(limit) = rules.terms.per_customer_limit {
        if uses_by(conn, rules.id, customer).await? >= i64::from(limit) {
            return Ok(Verdict::Refused(Refusal::CustomerLimit));
        }
    }
    let skus: Vec<String> = lines.iter().map(|(s, _)| s.clone()).collect();
    let covered = covered(conn, &rules.terms, &skus).await?;
    let marked: Vec<(bool, i64)> = lines
        .iter()
        .map(|(sku, total)| (covered.contains(sku), *total))
        .collect();
    if !marked.iter().any(|(c, _)| *c) {
        return Ok(Verdict::Refused(Refusal::NotApplicable));
    }
    let covered_sum = marked
        .iter()
        .filter(|(c, _)| *c)
        .try_fold(0i64, |sum, (_, t)| sum.checked_add(*t))
        .ok_or_else(types::too_large)?;
    if let Some(min) = rules.terms.min_subtotal {
        if covered_sum < min {
            let min = Money::new(min, rules.currency);
            return Ok(Verdict::Refused(Refusal::BelowMinimum(min)));
        }
    }
    Ok(Verdict::Applies(Evaluation {
        promotion_id: rules.id,
        code: rules.code.clone(),
        applied: apply(&rules.terms.benefit, &marked),
        benefit: rules.terms.benefit,
    }))
}

/// Counts one use of the evaluated code for `order_id`, inside the order's transaction.
/// The promotion's row is locked by the increment itself, so concurrent checkouts of one
/// code queue here and a limit of K admits exactly K; the per-customer count is read under
/// the same lock. A code that closed meanwhile is a 409, and the caller rolls back.
#[tracing::instrument(name = "promotions.redeem", skip_all, fields(code = %evaluation.code))]
pub async fn redeem(
    tx: &mut PgConnection,
    evaluation: &Evaluation,
    order_id: Uuid,
    customer: Customer<'_>,
) -> Result<(), AppError> {
    let taken = sqlx::query_scalar!(
        r#"UPDATE promotions SET redeemed = redeemed + 1
            WHERE id = $1 AND active AND (usage_limit IS NULL OR redeemed < usage_limit)
              AND (starts_at IS NULL OR starts_at <= now()) AND (ends_at IS NULL OR ends_at > now())
            RETURNING per_customer_limit"#,
        evaluation.promotion_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let code = &evaluation.code;
    let Some(per_customer) = taken else {
        let refusal = match load(tx, code).await? {
            Some(rules) => rules
                .closed_at(OffsetDateTime::now_utc())
                .unwrap_or(Refusal::UsedUp),
            None => Refusal::Inactive,
        };
        return Err(refusal.at_checkout(code));
    };
    if let Some(limit) = per_customer {
        if uses_by(tx, evaluation.promotion_id, customer).await? >= i64::from(limit) {
            return Err(Refusal::CustomerLimit.at_checkout(code));
        }
    }
    sqlx::query!(
        "INSERT INTO promotion_redemptions (order_id, promotion_id, user_id, email) VALUES ($1, $2, $3, $4)",
        order_id,
        evaluation.promotion_id,
        customer.user_id,
        customer.email.unwrap_or_default(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Gives back the code uses of `orders` that still hold one: each exactly once, however
/// often it is called, since only an unreleased redemption is released.
pub async fn give_back(conn: &mut PgConnection, orders: &[Uuid]) -> Result<(), AppError> {
    sqlx::query!(
        r#"WITH freed AS (
               UPDATE promotion_redemptions SET released_at = now()
                WHERE order_id = ANY($1) AND released_at IS NULL
                RETURNING promotion_id)
           UPDATE promotions p SET redeemed = p.redeemed - f.n
             FROM (SELECT promotion_id, count(*)::int AS n FROM freed GROUP BY promotion_id) f
            WHERE p.id = f.promotion_id"#,
        orders
    )
    .execute(conn)
    .await?;
    Ok(())
}

impl Promotions {
    /// The service.
    pub fn new(db: PgPool) -> Self {
        Promotions { db }
    }

    /// [`evaluate`] on a pooled connection, for the cart and the checkout page.
    pub async fn evaluate(
        &self,
        code: &PromotionCode,
        lines: &[(String, i64)],
        customer: Customer<'_>,
    ) -> Result<Verdict, AppError> {
        let mut conn = self.db.acquire().await?;
        evaluate(&mut conn, code, lines, customer, OffsetDateTime::now_utc()).await
    }
}
