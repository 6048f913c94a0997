//! A product's gallery: uploads become ordered images with the merchant's alt text and the
//! large rendition's size. The first image is the cover, which the product row mirrors for
//! listings. Renditions are stored before the database points at them, and deleted only
//! after it no longer does, so a product never points at nothing.

use super::Catalog;
use crate::audit::Actor;
use crate::media::{MediaStore, StoredImage};
use serde_json::json;
use sqlx::PgConnection;
use types::admin::AdminProduct;
use types::gallery::{parse_alt, ImageOrder, ProductImage, MAX_IMAGES};
use types::AppError;

impl Catalog {
    /// The product's images, in order.
    pub(super) async fn stored_images(
        conn: &mut PgConnection,
        product: i64,
    ) -> Result<Vec<ProductImage>, AppError> {
        Ok(sqlx::query!(
            r#"SELECT url, thumb_url, alt, width, height FROM product_images
                WHERE product_id = $1 ORDER BY position"#,
            product
        )
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| ProductImage {
            url: r.url,
            thumb_url: r.thumb_url,
            alt: r.alt,
            width: r.width.and_then(|w| u32::try_from(w).ok()),
            height: r.height.and_then(|h| u32::try_from(h).ok()),
        })
        .collect())
    }

    /// Replaces the cover with an upload, keeping its alt text (or the product's name when
    /// there was none): 404 before anything is stored for an unknown product, 422 for a file
    /// that is not an image within the limits.
    #[tracing::instrument(skip_all, fields(slug, actor = %actor.email))]
    pub async fn upload_image(
        &self,
        actor: &Actor,
        slug: &str,
        media: &MediaStore,
        upload: bytes::Bytes,
    ) -> Result<AdminProduct, AppError> {
        let before = self.admin_product_or_404(slug).await?;
        let stored = media.store_product_image(slug, upload).await?;
        let alt = before
            .images
            .first()
            .map_or_else(|| before.name.clone(), |i| i.alt.clone());
        let mut tx = self.db.begin().await?;
        let id = Self::product_id(&mut tx, slug).await?;
        sqlx::query!(
            "DELETE FROM product_images WHERE product_id = $1 AND position = 0",
            id
        )
        .execute(&mut *tx)
        .await?;
        Self::insert_image(&mut tx, id, 0, &stored, &alt).await?;
        Self::sync_cover(&mut tx, id).await?;
        let event = json!({"slug": slug, "change": "image"});
        let details = json!({"image_url": stored.url});
        self.publish(tx, actor, "product.image", slug, details, event)
            .await?;
        let gone = before
            .images
            .first()
            .map(|i| [i.url.clone(), i.thumb_url.clone()]);
        forget(
            media,
            gone.iter().flatten(),
            &[&stored.url, &stored.thumb_url],
        )
        .await;
        self.admin_product_or_404(slug).await
    }

    /// Adds an upload at the end of the gallery with its alt text, which is required (422).
    #[tracing::instrument(skip_all, fields(slug, actor = %actor.email))]
    pub async fn add_image(
        &self,
        actor: &Actor,
        slug: &str,
        media: &MediaStore,
        upload: bytes::Bytes,
        alt: &str,
    ) -> Result<AdminProduct, AppError> {
        let alt = parse_alt(alt).map_err(|e| AppError::invalid_field("alt", e))?;
        let before = self.admin_product_or_404(slug).await?;
        if before.images.len() >= MAX_IMAGES {
            return Err(AppError::invalid_field(
                "image",
                format!("A product has at most {MAX_IMAGES} images."),
            ));
        }
        let stored = media.store_product_image(slug, upload).await?;
        let mut tx = self.db.begin().await?;
        let id = Self::product_id(&mut tx, slug).await?;
        let next = sqlx::query_scalar!(
            r#"SELECT coalesce(max(position) + 1, 0) AS "next!" FROM product_images WHERE product_id = $1"#,
            id
        )
        .fetch_one(&mut *tx)
        .await?;
        // The same picture twice is a 409, and its renditions are the ones already stored.
        Self::insert_image(&mut tx, id, next, &stored, &alt).await?;
        Self::sync_cover(&mut tx, id).await?;
        let event = json!({"slug": slug, "change": "image_added"});
        let details = json!({"image_url": stored.url, "position": next});
        self.publish(tx, actor, "product.image_added", slug, details, event)
            .await?;
        self.admin_product_or_404(slug).await
    }

    /// Takes the image at `position` (0 is the cover) out of the gallery; the ones after it
    /// move up, and its renditions are deleted after the commit. 404 when there is none.
    #[tracing::instrument(skip(self, actor, media))]
    pub async fn remove_image_at(
        &self,
        actor: &Actor,
        slug: &str,
        media: &MediaStore,
        position: usize,
    ) -> Result<AdminProduct, AppError> {
        let mut tx = self.db.begin().await?;
        let id = Self::product_id(&mut tx, slug).await?;
        let at = i32::try_from(position).map_err(|_| AppError::not_found("image"))?;
        let gone = sqlx::query!(
            "DELETE FROM product_images WHERE product_id = $1 AND position = $2 RETURNING url, thumb_url",
            id,
            at
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("image"))?;
        sqlx::query!(
            "UPDATE product_images SET position = position - 1 WHERE product_id = $1 AND position > $2",
            id,
            at
        )
        .execute(&mut *tx)
        .await?;
        Self::sync_cover(&mut tx, id).await?;
        let event = json!({"slug": slug, "change": "image_removed"});
        let details = json!({"image_url": gone.url, "position": position});
        self.publish(tx, actor, "product.image_removed", slug, details, event)
            .await?;
        forget(media, [&gone.url, &gone.thumb_url], &[]).await;
        self.admin_product_or_404(slug).await
    }

    /// Takes the cover away; the next image, if any, becomes the cover.
    pub async fn remove_image(
        &self,
        actor: &Actor,
        slug: &str,
        media: &MediaStore,
    ) -> Result<AdminProduct, AppError> {
        self.remove_image_at(actor, slug, media, 0).await
    }

    /// Puts the gallery in `order` with its alt texts. It must name every image the product
    /// has, once each (422 `images[i].url` or `images`), inside the product edit's own
    /// transaction.
    pub(super) async fn reorder_images(
        tx: &mut PgConnection,
        product: i64,
        order: &[ImageOrder],
    ) -> Result<(), AppError> {
        let stored = Self::stored_images(tx, product).await?;
        let mut errors = types::accounts::FormErrors::default();
        for (i, image) in order.iter().enumerate() {
            if !stored.iter().any(|s| s.url == image.url) {
                errors.check::<(), _>(
                    &format!("images[{i}].url"),
                    Err("is not an image of this product"),
                );
            }
        }
        if order.len() != stored.len() {
            errors.check::<(), _>(
                "images",
                Err(format!(
                    "must list all {} images of the product; remove one with DELETE …/images/{{position}}",
                    stored.len()
                )),
            );
        }
        errors.finish()?;
        let urls: Vec<String> = order.iter().map(|o| o.url.clone()).collect();
        let alts: Vec<String> = order.iter().map(|o| o.alt.clone()).collect();
        sqlx::query!(
            r#"UPDATE product_images i SET position = o.n - 1, alt = o.alt
                 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS o(url, alt, n)
                WHERE i.product_id = $1 AND i.url = o.url"#,
            product,
            &urls,
            &alts,
        )
        .execute(&mut *tx)
        .await?;
        Self::sync_cover(tx, product).await
    }

    async fn product_id(tx: &mut PgConnection, slug: &str) -> Result<i64, AppError> {
        sqlx::query_scalar!("SELECT id FROM products WHERE slug = $1 FOR UPDATE", slug)
            .fetch_optional(tx)
            .await?
            .ok_or_else(|| AppError::not_found("product"))
    }

    async fn insert_image(
        tx: &mut PgConnection,
        product: i64,
        position: i32,
        image: &StoredImage,
        alt: &str,
    ) -> Result<(), AppError> {
        sqlx::query!(
            r#"INSERT INTO product_images (product_id, position, url, thumb_url, alt, width, height)
               VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
            product,
            position,
            image.url,
            image.thumb_url,
            alt,
            i32::try_from(image.width).ok(),
            i32::try_from(image.height).ok(),
        )
        .execute(tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("product_images_url") => {
                AppError::Conflict("This product already has that image.".to_owned())
            }
            _ => AppError::from(e),
        })?;
        Ok(())
    }

    /// Points the product row at its first image, which listings show.
    async fn sync_cover(tx: &mut PgConnection, product: i64) -> Result<(), AppError> {
        sqlx::query!(
            r#"UPDATE products p SET image_url = first.url, thumb_url = first.thumb_url
                 FROM (SELECT (SELECT url FROM product_images WHERE product_id = $1
                                ORDER BY position LIMIT 1) AS url,
                              (SELECT thumb_url FROM product_images WHERE product_id = $1
                                ORDER BY position LIMIT 1) AS thumb_url) first
                WHERE p.id = $1"#,
            product
        )
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// Deletes stored renditions that nothing points at any more, unless in `keep`. The change
/// has committed by now, so a store that fails here leaves an orphan object, logged.
async fn forget<'a>(
    media: &MediaStore,
    urls: impl IntoIterator<Item = &'a String>,
    keep: &[&String],
) {
    for url in urls.into_iter().filter(|u| !keep.contains(u)) {
        let Some(key) = MediaStore::key_of(url) else {
            continue;
        };
        if let Err(e) = media.delete(key).await {
            tracing::warn!(%key, error = %e, "an old image rendition was left in the store");
        }
    }
}
