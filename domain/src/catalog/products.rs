//! The merchant's product writes: create, edit, archive and images. Each writes its audit
//! entry and its `product_updated` event in the same transaction, then the read cache
//! forgets what it knew.

use super::stock::stock_to_write;
use super::Catalog;
use crate::audit::{audit, Actor};
use crate::outbox;
use crate::rfc3339;
use serde_json::{json, Value};
use sqlx::types::Json;
use sqlx::PgConnection;
use types::admin::{
    AdminProduct, AdminVariant, InventoryChange, ProductEdit, ProductFilter, ValidProduct,
    ValidVariant,
};
use types::options::{Attributes, OptionValues};
use types::{AppError, Money, Slug};

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
impl Catalog {
    /// Products, archived ones too, filtered by text, category and status as sent. A blank
    /// filter is no filter; an unknown status is a 400.
    pub async fn admin_products(
        &self,
        filter: &ProductFilter,
    ) -> Result<Vec<AdminProduct>, AppError> {
        for (name, value) in [("q", &filter.q), ("category", &filter.category)] {
            // Postgres text cannot hold NUL, and no name or slug has a control character.
            if value
                .as_deref()
                .is_some_and(|v| v.chars().any(char::is_control))
            {
                return Err(AppError::invalid_param(
                    name,
                    "must not contain control characters",
                ));
            }
        }
        let blank = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let (q, category) = (blank(&filter.q), blank(&filter.category));
        let (q, category) = (q.as_deref(), category.as_deref());
        let active = match filter.status.as_deref().map(str::trim) {
            None | Some("" | "all") => None,
            Some("active") => Some(true),
            Some("archived") => Some(false),
            Some(_) => {
                return Err(AppError::invalid_param(
                    "status",
                    "must be active, archived or all",
                ))
            }
        };
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
            if let Some(p) = self.admin_product(&slug).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// One product by slug, archived or not.
    pub async fn admin_product(&self, slug: &str) -> Result<Option<AdminProduct>, AppError> {
        let Some(p) = sqlx::query!(
            r#"SELECT p.id, p.slug, p.name, p.description, c.slug AS category, p.active, p.image_url,
                      p.thumb_url, p.updated_at, p.attributes AS "attributes: Json<Attributes>"
               FROM products p JOIN categories c ON c.id = p.category_id WHERE p.slug = $1"#,
            slug
        )
        .fetch_optional(&self.db)
        .await?
        else {
            return Ok(None);
        };
        let variants = sqlx::query!(
            r#"SELECT sku, name, price_amount, currency, stock,
                      options AS "options: Json<OptionValues>"
                 FROM variants WHERE product_id = $1 ORDER BY position, id"#,
            p.id
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|v| {
            Ok(AdminVariant {
                price: Money::from_row(v.price_amount, &v.currency)?,
                sku: v.sku,
                name: v.name,
                stock: i64::from(v.stock),
                options: v.options.0,
            })
        })
        .collect::<Result<_, AppError>>()?;
        let mut conn = self.db.acquire().await?;
        let options = Self::stored_options(&mut conn, p.id).await?;
        let images = Self::stored_images(&mut conn, p.id).await?;
        Ok(Some(AdminProduct {
            slug: p.slug,
            name: p.name,
            description: p.description,
            category: p.category,
            active: p.active,
            image_url: p.image_url,
            thumb_url: p.thumb_url,
            options,
            attributes: p.attributes.0,
            images,
            variants,
            updated_at: rfc3339(p.updated_at),
        }))
    }

    /// One product or 404.
    pub async fn admin_product_or_404(&self, slug: &str) -> Result<AdminProduct, AppError> {
        self.admin_product(slug)
            .await?
            .ok_or_else(|| AppError::not_found("product"))
    }

    /// One product with the recent stock changes of its variants, newest first (404 if
    /// there is no such product).
    pub async fn admin_product_page(
        &self,
        slug: &str,
    ) -> Result<(AdminProduct, Vec<InventoryChange>), AppError> {
        let product = self.admin_product_or_404(slug).await?;
        let mut history = Vec::new();
        for v in &product.variants {
            history.extend(self.inventory_history(Some(&v.sku), 20).await?);
        }
        history.sort_by(|a, b| b.at.cmp(&a.at));
        Ok((product, history))
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
    #[tracing::instrument(name = "admin.create_product", skip_all, fields(name = %input.name, actor = %actor.email))]
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
        Self::write_options(&mut tx, id, &input.options).await?;
        Self::write_attributes(&mut tx, id, &input.attributes).await?;
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
        self.admin_product_or_404(&slug).await
    }

    /// Finishes a product change: the audit entry and the `product_updated` event commit
    /// with it, then the catalog cache forgets what it knew.
    pub(super) async fn publish(
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
        self.invalidate();
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
            r#"INSERT INTO variants (product_id, sku, name, price_amount, currency, stock, position, options)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
            product,
            v.sku.as_str(),
            v.name,
            v.price.amount,
            v.price.currency.as_str(),
            stock,
            i32::try_from(position).unwrap_or(i32::MAX),
            Json(&v.options) as Json<&OptionValues>,
        )
        .execute(tx)
        .await?;
        Ok(())
    }

    pub(super) async fn record_stock(
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
    #[tracing::instrument(name = "admin.update_product", skip_all, fields(slug, actor = %actor.email))]
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
                            r#"UPDATE variants SET name = $2, price_amount = $3, currency = $4,
                                      stock = COALESCE($5, stock), position = $6, options = $7
                                WHERE sku = $1"#,
                            v.sku.as_str(),
                            v.name,
                            v.price.amount,
                            v.price.currency.as_str(),
                            stock,
                            i32::try_from(position).unwrap_or(i32::MAX),
                            Json(&v.options) as Json<&OptionValues>,
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
        if let Some(options) = &patch.options {
            Self::write_options(&mut tx, current.id, options).await?;
        }
        if let Some(attributes) = &patch.attributes {
            Self::write_attributes(&mut tx, current.id, attributes).await?;
        }
        if let Some(images) = &patch.images {
            Self::reorder_images(&mut tx, current.id, images).await?;
        }
        // Whichever side the edit sent, the variants must fit the options now stored.
        Self::check_stored_options(&mut tx, current.id).await?;
        let event = json!({"slug": new_slug, "previous_slug": current.slug, "change": "updated"});
        let details = json!({"from": current.slug});
        self.publish(tx, actor, "product.update", &new_slug, details, event)
            .await?;
        self.admin_product_or_404(&new_slug).await
    }

    /// Takes a product off the storefront; its orders keep their lines.
    #[tracing::instrument(name = "admin.archive_product", skip_all, fields(slug, actor = %actor.email))]
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
}
