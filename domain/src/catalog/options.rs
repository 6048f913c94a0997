//! A product's options and attributes: written with the product's own create or edit,
//! read for its pages, and re-checked against what is stored when an edit sends only
//! the options or only the variants.

use super::Catalog;
use sqlx::types::Json;
use sqlx::PgConnection;
use types::accounts::FormErrors;
use types::options::{check_variant_options, Attributes, OptionValues, ProductOption};
use types::AppError;

impl Catalog {
    /// Replaces the product's options with `options`, in their order.
    pub(super) async fn write_options(
        tx: &mut PgConnection,
        product: i64,
        options: &[ProductOption],
    ) -> Result<(), AppError> {
        sqlx::query!("DELETE FROM product_options WHERE product_id = $1", product)
            .execute(&mut *tx)
            .await?;
        sqlx::query!(
            r#"INSERT INTO product_options (product_id, position, name, option_values)
               SELECT $1, o.n - 1, o.opt->>'name',
                      ARRAY(SELECT jsonb_array_elements_text(o.opt->'values'))
                 FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS o(opt, n)"#,
            product,
            Json(options) as Json<&[ProductOption]>,
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Replaces the product's attributes.
    pub(super) async fn write_attributes(
        tx: &mut PgConnection,
        product: i64,
        attributes: &Attributes,
    ) -> Result<(), AppError> {
        sqlx::query!(
            "UPDATE products SET attributes = $2 WHERE id = $1",
            product,
            Json(attributes) as Json<&Attributes>,
        )
        .execute(tx)
        .await?;
        Ok(())
    }

    /// The product's options, in order.
    pub(super) async fn stored_options(
        conn: &mut PgConnection,
        product: i64,
    ) -> Result<Vec<ProductOption>, AppError> {
        Ok(sqlx::query!(
            r#"SELECT name, option_values FROM product_options
                WHERE product_id = $1 ORDER BY position"#,
            product
        )
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| ProductOption {
            name: r.name,
            values: r.option_values,
        })
        .collect())
    }

    /// Fails with a 422 when the stored variants do not fit the stored options: the last
    /// step of an edit, inside its transaction, so one that breaks the rule writes nothing.
    pub(super) async fn check_stored_options(
        tx: &mut PgConnection,
        product: i64,
    ) -> Result<(), AppError> {
        let options = Self::stored_options(tx, product).await?;
        let chosen: Vec<OptionValues> = sqlx::query_scalar!(
            r#"SELECT options AS "options: Json<OptionValues>" FROM variants
                WHERE product_id = $1 ORDER BY position, id"#,
            product
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|Json(o)| o)
        .collect();
        let mut errors = FormErrors::default();
        check_variant_options(&mut errors, &options, &chosen);
        errors.finish()
    }
}
