//! The merchant's category writes: create, rename, re-parent, reorder and delete. The
//! tree stays a tree: every write that moves a category holds one transaction-scoped
//! lock, so two moves cannot each pass the cycle check and together make a loop.

use super::Catalog;
use crate::audit::{audit, Actor};
use serde_json::json;
use sqlx::PgConnection;
use types::taxonomy::{AdminCategory, CategoryEdit};
use types::{AppError, Slug};

/// The advisory lock every re-parenting write takes (an arbitrary constant).
const TREE_LOCK: i64 = 0x6361_7465_676f_7279;

fn clash(err: sqlx::Error, slug: &str) -> AppError {
    if let sqlx::Error::Database(db) = &err {
        if db.constraint() == Some("categories_slug_key") {
            return AppError::Conflict(format!(
                "The slug `{slug}` is already used by another category."
            ));
        }
    }
    err.into()
}

impl Catalog {
    /// Creates a category, at the top or under `parent`: 409 for a taken slug, 422 for
    /// a parent that does not exist.
    #[tracing::instrument(name = "admin.create_category", skip_all, fields(actor = %actor.email))]
    pub async fn create_category(
        &self,
        actor: &Actor,
        input: &CategoryEdit,
    ) -> Result<AdminCategory, AppError> {
        let name = input
            .name
            .as_deref()
            .ok_or_else(|| AppError::invalid_field("name", "is required"))?;
        let slug = match &input.slug {
            Some(s) => s.clone(),
            None => Slug::from_name(name).map_err(|e| {
                AppError::invalid_field("name", format!("Cannot make a slug from this name: {e}"))
            })?,
        };
        let mut tx = self.db.begin().await?;
        let parent = match input.parent.as_ref().and_then(Option::as_ref) {
            Some(p) => {
                // The parent cannot be deleted under us.
                sqlx::query!("SELECT pg_advisory_xact_lock($1)", TREE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Some(Self::parent_id(&mut tx, p).await?)
            }
            None => None,
        };
        sqlx::query!(
            "INSERT INTO categories (slug, name, description, parent_id, position)
             VALUES ($1, $2, $3, $4, $5)",
            slug.as_str(),
            name,
            input.description.as_deref().unwrap_or_default(),
            parent,
            input.position.unwrap_or(0)
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| clash(e, slug.as_str()))?;
        audit(
            &mut tx,
            actor,
            "category.create",
            slug.as_str(),
            json!({"name": name}),
        )
        .await?;
        let created = Self::admin_category(&mut tx, slug.as_str()).await?;
        tx.commit().await?;
        self.invalidate();
        Ok(created)
    }

    /// Renames, re-parents or reorders a category: 409 when the new parent is the
    /// category itself or below it, or the new slug is taken.
    #[tracing::instrument(name = "admin.update_category", skip_all, fields(slug = %slug, actor = %actor.email))]
    pub async fn update_category(
        &self,
        actor: &Actor,
        slug: &str,
        edit: &CategoryEdit,
    ) -> Result<AdminCategory, AppError> {
        let mut tx = self.db.begin().await?;
        let id = sqlx::query_scalar!("SELECT id FROM categories WHERE slug = $1 FOR UPDATE", slug)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::not_found("category"))?;
        let parent = match &edit.parent {
            None => None,
            Some(None) => Some(None),
            Some(Some(p)) => {
                sqlx::query!("SELECT pg_advisory_xact_lock($1)", TREE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let parent = Self::parent_id(&mut tx, p).await?;
                // The new parent must not be the category or sit anywhere below it.
                let below = sqlx::query_scalar!(
                    r#"WITH RECURSIVE up(id, parent_id) AS (
                           SELECT id, parent_id FROM categories WHERE id = $1
                           UNION
                           SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
                       )
                       SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS "cycle!""#,
                    parent,
                    id
                )
                .fetch_one(&mut *tx)
                .await?;
                if below {
                    return Err(AppError::Conflict(format!(
                        "`{p}` is `{slug}` itself or below it: a category cannot sit under itself."
                    )));
                }
                Some(Some(parent))
            }
        };
        let new_slug = edit.slug.as_ref().map(Slug::as_str);
        let target = new_slug.unwrap_or(slug).to_owned();
        sqlx::query!(
            "UPDATE categories
                SET name = coalesce($2, name), slug = coalesce($3, slug),
                    description = coalesce($4, description), position = coalesce($5, position),
                    parent_id = CASE WHEN $6 THEN $7 ELSE parent_id END
              WHERE id = $1",
            id,
            edit.name.as_deref(),
            new_slug,
            edit.description.as_deref(),
            edit.position,
            parent.is_some(),
            parent.flatten()
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| clash(e, &target))?;
        let details = json!({
            "name": edit.name,
            "slug": new_slug,
            "parent": edit.parent.as_ref().map(|p| p.as_ref().map(Slug::as_str)),
            "position": edit.position,
        });
        audit(&mut tx, actor, "category.update", slug, details).await?;
        let updated = Self::admin_category(&mut tx, &target).await?;
        tx.commit().await?;
        self.invalidate();
        Ok(updated)
    }

    /// Deletes an empty category: 409 while it holds products (archived ones too, which
    /// orders still name) or has categories below it.
    #[tracing::instrument(name = "admin.delete_category", skip_all, fields(slug = %slug, actor = %actor.email))]
    pub async fn delete_category(&self, actor: &Actor, slug: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        sqlx::query!("SELECT pg_advisory_xact_lock($1)", TREE_LOCK)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query!(
            r#"SELECT c.id,
                      (SELECT count(*) FROM products p WHERE p.category_id = c.id) AS "products!",
                      (SELECT count(*) FROM categories k WHERE k.parent_id = c.id) AS "children!"
                 FROM categories c WHERE c.slug = $1 FOR UPDATE"#,
            slug
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("category"))?;
        if row.products > 0 {
            return Err(AppError::Conflict(format!(
                "`{slug}` still holds {} products: move or delete them first.",
                row.products
            )));
        }
        if row.children > 0 {
            return Err(AppError::Conflict(format!(
                "`{slug}` has {} categories below it: move or delete them first.",
                row.children
            )));
        }
        sqlx::query!("DELETE FROM categories WHERE id = $1", row.id)
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, actor, "category.delete", slug, json!({})).await?;
        tx.commit().await?;
        self.invalidate();
        Ok(())
    }

    /// Every category as the merchant edits it, parents before their children.
    pub async fn admin_categories(&self) -> Result<Vec<AdminCategory>, AppError> {
        let rows = sqlx::query!(
            r#"WITH RECURSIVE t(id, depth, path) AS (
                   SELECT id, 0, ARRAY[position::bigint, id] FROM categories WHERE parent_id IS NULL
                   UNION ALL
                   SELECT c.id, t.depth + 1, t.path || ARRAY[c.position::bigint, c.id]
                     FROM categories c JOIN t ON c.parent_id = t.id
               )
               SELECT c.slug, c.name, c.description, c.position, p.slug AS "parent?"
                 FROM t JOIN categories c ON c.id = t.id
                 LEFT JOIN categories p ON p.id = c.parent_id
                ORDER BY t.path"#
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|c| AdminCategory {
                slug: c.slug,
                name: c.name,
                description: c.description,
                parent: c.parent,
                position: c.position,
            })
            .collect())
    }

    /// One category as the merchant edits it, or 404.
    pub async fn admin_category_or_404(&self, slug: &str) -> Result<AdminCategory, AppError> {
        let mut conn = self.db.acquire().await?;
        Self::admin_category(&mut conn, slug).await
    }

    async fn parent_id(tx: &mut PgConnection, slug: &Slug) -> Result<i64, AppError> {
        sqlx::query_scalar!("SELECT id FROM categories WHERE slug = $1", slug.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                AppError::invalid_field("parent", format!("There is no category `{slug}`."))
            })
    }

    async fn admin_category(tx: &mut PgConnection, slug: &str) -> Result<AdminCategory, AppError> {
        let c = sqlx::query!(
            r#"SELECT c.slug, c.name, c.description, c.position, p.slug AS "parent?"
                 FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
                WHERE c.slug = $1"#,
            slug
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("category"))?;
        Ok(AdminCategory {
            slug: c.slug,
            name: c.name,
            description: c.description,
            parent: c.parent,
            position: c.position,
        })
    }
}
