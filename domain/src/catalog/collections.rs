//! Collections: merchant-curated, ordered product lists with their own pages. The
//! storefront shows a collection's listed products (active, with a variant) in the
//! merchant's order; the admin sees every member, archived ones too.

use super::Catalog;
use crate::audit::{audit, Actor};
use serde_json::json;
use sqlx::PgConnection;
use std::sync::Arc;
use types::taxonomy::{AdminCollection, CollectionEdit};
use types::{AppError, CollectionSummary, Money, ProductPage, ProductQuery, ProductSummary, Slug};

fn clash(err: sqlx::Error, slug: &str) -> AppError {
    if let sqlx::Error::Database(db) = &err {
        if db.constraint() == Some("collections_slug_key") {
            return AppError::Conflict(format!(
                "The slug `{slug}` is already used by another collection."
            ));
        }
    }
    err.into()
}

impl Catalog {
    /// Every collection with its count of listed products, by name (cached, as the home
    /// page shows them).
    pub async fn collections(&self) -> Result<Arc<Vec<CollectionSummary>>, AppError> {
        self.collections
            .get_or_load(&(), || self.load_collections())
            .await
    }

    #[tracing::instrument(name = "catalog.collections", skip_all)]
    async fn load_collections(&self) -> Result<Vec<CollectionSummary>, AppError> {
        let rows = sqlx::query!(
            r#"SELECT c.slug, c.name,
                      (SELECT count(*) FROM collection_products cp
                         JOIN products p ON p.id = cp.product_id
                        WHERE cp.collection_id = c.id AND p.active AND p.min_price IS NOT NULL)
                        AS "product_count!"
                 FROM collections c
                ORDER BY lower(c.name), c.id"#
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CollectionSummary {
                slug: r.slug,
                name: r.name,
                product_count: r.product_count,
            })
            .collect())
    }

    /// One page of a collection's listed products in the merchant's order, with the
    /// collection's name and description; 404 for an unknown collection.
    #[tracing::instrument(name = "catalog.collection", skip_all, fields(slug = %slug))]
    pub async fn collection_page(
        &self,
        slug: &Slug,
        query: &ProductQuery,
    ) -> Result<(String, String, ProductPage), AppError> {
        let head = sqlx::query!(
            r#"SELECT c.id, c.name, c.description,
                      (SELECT count(*) FROM collection_products cp
                         JOIN products p ON p.id = cp.product_id
                        WHERE cp.collection_id = c.id AND p.active AND p.min_price IS NOT NULL)
                        AS "total!"
                 FROM collections c WHERE c.slug = $1"#,
            slug.as_str()
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AppError::not_found("collection"))?;
        let rows = sqlx::query!(
            r#"SELECT p.slug, p.name, COALESCE(p.thumb_url, p.image_url) AS image_url,
                      p.min_price AS "price!", p.price_currency AS "currency!",
                      (SELECT slug FROM categories WHERE id = p.category_id) AS "category!",
                      EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.stock > 0)
                        AS "in_stock!"
                 FROM collection_products cp
                 JOIN products p ON p.id = cp.product_id
                WHERE cp.collection_id = $1 AND p.active AND p.min_price IS NOT NULL
                ORDER BY cp.position
                LIMIT $2 OFFSET $3"#,
            head.id,
            i64::from(query.per_page),
            query.offset()
        )
        .fetch_all(&self.db)
        .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                Money::from_row(r.price, &r.currency).map(|price| ProductSummary {
                    slug: r.slug,
                    name: r.name,
                    price,
                    image_url: r.image_url,
                    in_stock: r.in_stock,
                    category: r.category,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let page = ProductPage {
            items,
            page: query.page,
            per_page: query.per_page,
            total: head.total,
            facets: Default::default(),
        };
        Ok((head.name, head.description, page))
    }

    /// Every collection as the merchant edits it.
    pub async fn admin_collections(&self) -> Result<Vec<AdminCollection>, AppError> {
        let slugs = sqlx::query_scalar!("SELECT slug FROM collections ORDER BY lower(name), id")
            .fetch_all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(slugs.len());
        let mut conn = self.db.acquire().await?;
        for slug in slugs {
            if let Some(c) = Self::admin_collection(&mut conn, &slug).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// One collection as the merchant edits it, or 404.
    pub async fn admin_collection_or_404(&self, slug: &str) -> Result<AdminCollection, AppError> {
        let mut conn = self.db.acquire().await?;
        Self::admin_collection(&mut conn, slug)
            .await?
            .ok_or_else(|| AppError::not_found("collection"))
    }

    async fn admin_collection(
        conn: &mut PgConnection,
        slug: &str,
    ) -> Result<Option<AdminCollection>, AppError> {
        let Some(c) = sqlx::query!(
            r#"SELECT c.slug, c.name, c.description,
                      coalesce(array_agg(p.slug ORDER BY cp.position)
                                 FILTER (WHERE p.slug IS NOT NULL), '{}') AS "products!"
                 FROM collections c
                 LEFT JOIN collection_products cp ON cp.collection_id = c.id
                 LEFT JOIN products p ON p.id = cp.product_id
                WHERE c.slug = $1
                GROUP BY c.id"#,
            slug
        )
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(AdminCollection {
            slug: c.slug,
            name: c.name,
            description: c.description,
            products: c.products,
        }))
    }

    /// Creates a collection. Without a slug one is made from the name (`-2`, `-3`… when
    /// taken); a taken explicit slug is a 409, and an unknown product a 422 naming it.
    #[tracing::instrument(name = "admin.create_collection", skip_all, fields(actor = %actor.email))]
    pub async fn create_collection(
        &self,
        actor: &Actor,
        input: &CollectionEdit,
    ) -> Result<AdminCollection, AppError> {
        let name = input
            .name
            .as_deref()
            .ok_or_else(|| AppError::invalid_field("name", "is required"))?;
        let mut tx = self.db.begin().await?;
        let slug = match &input.slug {
            Some(s) => s.as_str().to_owned(),
            None => Self::free_collection_slug(&mut tx, name).await?,
        };
        let id = sqlx::query_scalar!(
            "INSERT INTO collections (slug, name, description) VALUES ($1, $2, $3) RETURNING id",
            slug,
            name,
            input.description.as_deref().unwrap_or_default()
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| clash(e, &slug))?;
        if let Some(products) = &input.products {
            Self::set_members(&mut tx, id, products).await?;
        }
        audit(
            &mut tx,
            actor,
            "collection.create",
            &slug,
            json!({"name": name}),
        )
        .await?;
        let created = Self::admin_collection(&mut tx, &slug)
            .await?
            .ok_or_else(|| {
                AppError::internal("create collection", "row vanished in its transaction")
            })?;
        tx.commit().await?;
        self.invalidate();
        Ok(created)
    }

    /// Edits a collection: the fields given, and with `products` its whole list and order.
    #[tracing::instrument(name = "admin.update_collection", skip_all, fields(slug = %slug, actor = %actor.email))]
    pub async fn update_collection(
        &self,
        actor: &Actor,
        slug: &str,
        edit: &CollectionEdit,
    ) -> Result<AdminCollection, AppError> {
        let mut tx = self.db.begin().await?;
        let new_slug = edit.slug.as_ref().map(Slug::as_str);
        let target = new_slug.unwrap_or(slug).to_owned();
        let id = sqlx::query_scalar!(
            "UPDATE collections
                SET name = coalesce($2, name), slug = coalesce($3, slug),
                    description = coalesce($4, description)
              WHERE slug = $1
              RETURNING id",
            slug,
            edit.name.as_deref(),
            new_slug,
            edit.description.as_deref()
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| clash(e, &target))?
        .ok_or_else(|| AppError::not_found("collection"))?;
        if let Some(products) = &edit.products {
            sqlx::query!(
                "DELETE FROM collection_products WHERE collection_id = $1",
                id
            )
            .execute(&mut *tx)
            .await?;
            Self::set_members(&mut tx, id, products).await?;
        }
        let details = json!({
            "name": edit.name,
            "slug": new_slug,
            "products": edit.products.as_ref().map(|p| p.len()),
        });
        audit(&mut tx, actor, "collection.update", slug, details).await?;
        let updated = Self::admin_collection(&mut tx, &target)
            .await?
            .ok_or_else(|| {
                AppError::internal("update collection", "row vanished in its transaction")
            })?;
        tx.commit().await?;
        self.invalidate();
        Ok(updated)
    }

    /// Deletes a collection; its products stay as they are.
    #[tracing::instrument(name = "admin.delete_collection", skip_all, fields(slug = %slug, actor = %actor.email))]
    pub async fn delete_collection(&self, actor: &Actor, slug: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        let gone = sqlx::query!("DELETE FROM collections WHERE slug = $1", slug)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(AppError::not_found("collection"));
        }
        audit(&mut tx, actor, "collection.delete", slug, json!({})).await?;
        tx.commit().await?;
        self.invalidate();
        Ok(())
    }

    /// Writes the members in order; a slug no product has is a 422 naming its place.
    async fn set_members(
        tx: &mut PgConnection,
        collection: i64,
        products: &[Slug],
    ) -> Result<(), AppError> {
        let slugs: Vec<&str> = products.iter().map(Slug::as_str).collect();
        let missing = sqlx::query_scalar!(
            r#"SELECT t.n AS "n!" FROM unnest($1::text[]) WITH ORDINALITY AS t(slug, n)
                WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.slug = t.slug)
                ORDER BY t.n LIMIT 1"#,
            &slugs as &[&str]
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(n) = missing {
            let i = usize::try_from(n - 1).unwrap_or_default();
            return Err(AppError::invalid_field(
                &format!("products[{i}]"),
                format!("There is no product `{}`.", slugs.get(i).unwrap_or(&"")),
            ));
        }
        sqlx::query!(
            "INSERT INTO collection_products (collection_id, product_id, position)
             SELECT $1, p.id, (t.n - 1)::int
               FROM unnest($2::text[]) WITH ORDINALITY AS t(slug, n)
               JOIN products p ON p.slug = t.slug",
            collection,
            &slugs as &[&str]
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    async fn free_collection_slug(tx: &mut PgConnection, name: &str) -> Result<String, AppError> {
        let base = Slug::from_name(name).map_err(|e| {
            AppError::invalid_field("name", format!("Cannot make a slug from this name: {e}"))
        })?;
        let taken = sqlx::query_scalar!(
            "SELECT slug FROM collections WHERE slug = $1 OR slug LIKE $1 || '-%'",
            base.as_str()
        )
        .fetch_all(&mut *tx)
        .await?;
        (1..100)
            .map(|n| match n {
                1 => base.as_str().to_owned(),
                n => format!("{base}-{n}"),
            })
            .find(|candidate| !taken.contains(candidate))
            .ok_or_else(|| {
                AppError::Conflict("Choose a slug: every generated one is taken.".to_owned())
            })
    }
}
