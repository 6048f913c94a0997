//! The merchant's side of discount codes: list, create, edit, switch off and back on, each
//! change in the audit log within its own transaction.

use super::{benefit_of, Promotions, Terms};
use crate::audit::{audit, Actor};
use crate::rfc3339;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use types::accounts::FormErrors;
use types::promotions::{value_json, AppliesTo, Benefit, Promotion, PromotionCode, PromotionEdit};
use types::{AppError, Money, Sku, Slug};

fn stored_value(benefit: &Benefit) -> Option<i64> {
    match benefit {
        Benefit::Percent(bps) => Some(*bps),
        Benefit::Fixed(m) => Some(m.amount),
        Benefit::FreeShipping => None,
    }
}

/// An RFC 3339 time typed by the merchant, or a 422 naming its field.
fn time_field(
    errors: &mut FormErrors,
    field: &str,
    raw: Option<&str>,
) -> Option<Option<OffsetDateTime>> {
    match raw {
        None => Some(None),
        Some(t) => errors
            .check(
                field,
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| "must be an RFC 3339 time, such as 2027-01-31T23:59:59Z"),
            )
            .map(Some),
    }
}

/// Category slugs to ids and SKUs checked to exist, each unknown one a 422 naming it.
async fn scope_ids(
    conn: &mut PgConnection,
    errors: &mut FormErrors,
    categories: &[Slug],
    skus: &[Sku],
) -> Result<(Vec<i64>, Vec<String>), AppError> {
    let mut ids = Vec::with_capacity(categories.len());
    for (i, slug) in categories.iter().enumerate() {
        let id = sqlx::query_scalar!("SELECT id FROM categories WHERE slug = $1", slug.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        match id {
            Some(id) => ids.push(id),
            None => {
                errors.check::<(), _>(
                    &format!("applies_to.categories[{i}]"),
                    Err("no such category"),
                );
            }
        }
    }
    let wanted: Vec<String> = skus.iter().map(ToString::to_string).collect();
    let known = sqlx::query_scalar!("SELECT sku FROM variants WHERE sku = ANY($1)", &wanted)
        .fetch_all(&mut *conn)
        .await?;
    for (i, sku) in wanted.iter().enumerate() {
        if !known.contains(sku) {
            errors.check::<(), _>(&format!("applies_to.skus[{i}]"), Err("no such SKU"));
        }
    }
    Ok((ids, wanted))
}

fn clash(err: sqlx::Error, code: &PromotionCode) -> AppError {
    if let sqlx::Error::Database(db) = &err {
        if db.constraint() == Some("promotions_code_key") {
            return AppError::Conflict(format!("The code {code} already exists."));
        }
    }
    err.into()
}

/// One promotion as the merchant sees it, or `None`.
async fn read(conn: &mut PgConnection, code: &str) -> Result<Option<Promotion>, AppError> {
    let Some(r) = sqlx::query!(
        r#"SELECT p.code, p.kind, p.value, p.currency, p.min_subtotal, p.starts_at, p.ends_at,
                  p.usage_limit, p.per_customer_limit, p.skus, p.active, p.redeemed,
                  ARRAY(SELECT c.slug FROM promotion_categories pc JOIN categories c ON c.id = pc.category_id
                         WHERE pc.promotion_id = p.id ORDER BY c.slug) AS "categories!"
             FROM promotions p WHERE p.code = $1"#,
        code
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let benefit = benefit_of(&r.kind, r.value, &r.currency)?;
    let currency = Money::from_row(0, &r.currency)?.currency;
    Ok(Some(Promotion {
        code: r.code,
        kind: benefit.kind().to_owned(),
        value: value_json(&benefit),
        label: benefit.describe(),
        min_subtotal: r.min_subtotal.map(|m| Money::new(m, currency)),
        starts_at: r.starts_at.map(rfc3339),
        ends_at: r.ends_at.map(rfc3339),
        usage_limit: r.usage_limit.map(i64::from),
        per_customer_limit: r.per_customer_limit.map(i64::from),
        applies_to: AppliesTo {
            categories: r.categories,
            skus: r.skus,
        },
        active: r.active,
        redeemed: i64::from(r.redeemed),
    }))
}

/// A code from a path; one that cannot exist is the same 404 as an unknown one.
fn path_code(raw: &str) -> Result<PromotionCode, AppError> {
    PromotionCode::parse(raw).map_err(|_| AppError::not_found("promotion"))
}

impl Promotions {
    /// Every promotion, newest first.
    pub async fn list(&self) -> Result<Vec<Promotion>, AppError> {
        let mut conn = self.db.acquire().await?;
        let codes =
            sqlx::query_scalar!("SELECT code FROM promotions ORDER BY created_at DESC, id DESC")
                .fetch_all(&mut *conn)
                .await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            if let Some(p) = read(&mut conn, &code).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// One promotion by code (any case), or 404.
    pub async fn get(&self, code: &str) -> Result<Promotion, AppError> {
        let code = path_code(code)?;
        let mut conn = self.db.acquire().await?;
        read(&mut conn, code.as_str())
            .await?
            .ok_or_else(|| AppError::not_found("promotion"))
    }

    /// Creates a promotion from a parsed input: 409 for a taken code, 422 for a bad time,
    /// a window that ends before it starts, or an unknown category or SKU.
    #[tracing::instrument(name = "promotions.create", skip_all)]
    pub async fn create(&self, actor: &Actor, edit: &PromotionEdit) -> Result<Promotion, AppError> {
        let (Some(code), Some(benefit)) = (&edit.code, edit.benefit) else {
            return Err(AppError::internal(
                "promotion create",
                "parse left out code or kind",
            ));
        };
        let mut tx = self.db.begin().await?;
        let terms = resolve(&mut tx, edit, None, benefit).await?;
        // The code first, for its id and the taken-code check; then every term, as an edit.
        let id = sqlx::query_scalar!(
            "INSERT INTO promotions (code, kind, value) VALUES ($1, $2, $3) RETURNING id",
            code.as_str(),
            terms.benefit.kind(),
            stored_value(&terms.benefit),
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| clash(e, code))?;
        let created = write(&mut tx, id, code, &terms).await?;
        audit(
            &mut tx,
            actor,
            "promotion.create",
            code.as_str(),
            json!(created),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Edits a promotion (404 unknown): any subset of its rules, `active` included. A total
    /// limit below the uses already taken is a 422.
    #[tracing::instrument(name = "promotions.update", skip_all, fields(code = %code))]
    pub async fn update(
        &self,
        actor: &Actor,
        code: &str,
        patch: &types::promotions::PromotionPatch,
    ) -> Result<Promotion, AppError> {
        let code = path_code(code)?;
        let mut tx = self.db.begin().await?;
        let current = sqlx::query!(
            r#"SELECT id, kind, value, currency, min_subtotal, starts_at, ends_at, usage_limit,
                      per_customer_limit, skus, active, redeemed,
                      ARRAY(SELECT category_id FROM promotion_categories WHERE promotion_id = p.id)
                        AS "categories!"
                 FROM promotions p WHERE code = $1 FOR UPDATE"#,
            code.as_str()
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("promotion"))?;
        let edit = patch.parse(&current.kind)?;
        let before = Terms {
            benefit: benefit_of(&current.kind, current.value, &current.currency)?,
            min_subtotal: current.min_subtotal,
            starts_at: current.starts_at,
            ends_at: current.ends_at,
            usage_limit: current.usage_limit,
            per_customer_limit: current.per_customer_limit,
            skus: current.skus,
            categories: current.categories,
            active: current.active,
        };
        let benefit = edit.benefit.unwrap_or(before.benefit);
        let terms = resolve(&mut tx, &edit, Some(before), benefit).await?;
        if terms.usage_limit.is_some_and(|l| l < current.redeemed) {
            return Err(AppError::invalid_field(
                "usage_limit",
                format!(
                    "must be at least the {} uses already taken",
                    current.redeemed
                ),
            ));
        }
        let after = write(&mut tx, current.id, &code, &terms).await?;
        audit(
            &mut tx,
            actor,
            "promotion.update",
            code.as_str(),
            json!({ "patch": patch, "after": after }),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Switches a code off (404 unknown): shoppers can no longer use it, orders keep it,
    /// and its history stays. `PATCH` with `"active": true` switches it back on.
    pub async fn deactivate(&self, actor: &Actor, code: &str) -> Result<(), AppError> {
        let code = path_code(code)?;
        let mut tx = self.db.begin().await?;
        let found = sqlx::query_scalar!(
            "UPDATE promotions SET active = false WHERE code = $1 RETURNING id",
            code.as_str()
        )
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(AppError::not_found("promotion"));
        }
        audit(
            &mut tx,
            actor,
            "promotion.deactivate",
            code.as_str(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The columns an edit leaves: each rule it names, the rest as `before` had them (or none
/// on create). Times, the window, categories and SKUs are checked here, all at once.
async fn resolve(
    conn: &mut PgConnection,
    edit: &PromotionEdit,
    before: Option<Terms>,
    benefit: Benefit,
) -> Result<Terms, AppError> {
    let mut errors = FormErrors::default();
    let starts_at = edit
        .starts_at
        .as_ref()
        .map(|s| time_field(&mut errors, "starts_at", s.as_deref()));
    let ends_at = edit
        .ends_at
        .as_ref()
        .map(|s| time_field(&mut errors, "ends_at", s.as_deref()));
    let scope = match &edit.applies_to {
        Some((categories, skus)) => Some(scope_ids(conn, &mut errors, categories, skus).await?),
        None => None,
    };
    errors.finish()?;
    let before = before.unwrap_or(Terms {
        benefit,
        min_subtotal: None,
        starts_at: None,
        ends_at: None,
        usage_limit: None,
        per_customer_limit: None,
        skus: Vec::new(),
        categories: Vec::new(),
        active: true,
    });
    let (categories, skus) = scope.unwrap_or((before.categories, before.skus));
    let terms = Terms {
        benefit,
        min_subtotal: edit
            .min_subtotal
            .map_or(before.min_subtotal, |m| m.map(|m| m.amount)),
        starts_at: starts_at.flatten().unwrap_or(before.starts_at),
        ends_at: ends_at.flatten().unwrap_or(before.ends_at),
        usage_limit: edit.usage_limit.unwrap_or(before.usage_limit),
        per_customer_limit: edit.per_customer_limit.unwrap_or(before.per_customer_limit),
        skus,
        categories,
        active: edit.active.unwrap_or(before.active),
    };
    if let (Some(s), Some(e)) = (terms.starts_at, terms.ends_at) {
        if e <= s {
            return Err(AppError::invalid_field(
                "ends_at",
                "must be after starts_at",
            ));
        }
    }
    Ok(terms)
}

/// Writes every term of promotion `id`, its covered categories included, and reads the
/// promotion back as the merchant sees it.
async fn write(
    conn: &mut PgConnection,
    id: i64,
    code: &PromotionCode,
    terms: &Terms,
) -> Result<Promotion, AppError> {
    sqlx::query!(
        r#"UPDATE promotions SET kind = $2, value = $3, min_subtotal = $4, starts_at = $5,
                  ends_at = $6, usage_limit = $7, per_customer_limit = $8, skus = $9, active = $10
            WHERE id = $1"#,
        id,
        terms.benefit.kind(),
        stored_value(&terms.benefit),
        terms.min_subtotal,
        terms.starts_at,
        terms.ends_at,
        terms.usage_limit,
        terms.per_customer_limit,
        &terms.skus,
        terms.active,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM promotion_categories WHERE promotion_id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO promotion_categories (promotion_id, category_id) SELECT $1, unnest($2::int8[])",
        id,
        &terms.categories
    )
    .execute(&mut *conn)
    .await?;
    read(conn, code.as_str())
        .await?
        .ok_or_else(|| AppError::internal("promotion write", "row vanished"))
}
