//! A user's own profile: their display name and saved addresses.

use super::{user_from, Accounts};
use types::{Address, AppError, PersonName, User, UserId};
use uuid::Uuid;

impl Accounts {
    /// Changes the display name, as typed: 422 when it breaks the rules.
    pub async fn update_name(&self, user_id: &UserId, name: &str) -> Result<User, AppError> {
        let mut errors = types::accounts::FormErrors::default();
        let name = errors.check("name", PersonName::parse(name));
        errors.finish()?;
        let name = name.ok_or_else(|| AppError::internal("profile", "name missing"))?;
        let id = user_id.get();
        let r = sqlx::query!(
            "UPDATE users SET name = $2 WHERE id = $1 RETURNING id, email, name, role",
            id,
            name.as_str()
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
        Ok(user_from(r.id, r.email, r.name, &r.role))
    }

    /// The user's saved addresses, oldest first.
    pub async fn addresses(&self, user_id: &UserId) -> Result<Vec<Address>, AppError> {
        let id = user_id.get();
        let rows = sqlx::query!(
            "SELECT id, name, line1, line2, city, postal_code, country FROM addresses WHERE user_id = $1 ORDER BY created_at, id",
            id
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Address {
                id: Some(r.id.to_string()),
                name: r.name,
                line1: r.line1,
                line2: r.line2,
                city: r.city,
                postal_code: r.postal_code,
                country: r.country,
            })
            .collect())
    }

    /// Saves a parsed address; at most 20 per user.
    pub async fn add_address(
        &self,
        user_id: &UserId,
        address: &Address,
    ) -> Result<Address, AppError> {
        let id = user_id.get();
        let address = address.parse()?;
        let mut tx = self.db.begin().await?;
        // Serialize concurrent adds for this user so the cap holds.
        sqlx::query!("SELECT id FROM users WHERE id = $1 FOR UPDATE", id)
            .fetch_one(&mut *tx)
            .await?;
        let count = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM addresses WHERE user_id = $1"#,
            id
        )
        .fetch_one(&mut *tx)
        .await?;
        if count >= 20 {
            return Err(AppError::Conflict(
                "You can save at most 20 addresses.".to_owned(),
            ));
        }
        let new_id = sqlx::query_scalar!(
            r#"INSERT INTO addresses (user_id, name, line1, line2, city, postal_code, country)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"#,
            id,
            address.name,
            address.line1,
            address.line2,
            address.city,
            address.postal_code,
            address.country
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Address {
            id: Some(new_id.to_string()),
            ..address
        })
    }

    /// Deletes one of the user's addresses; someone else's is a 404.
    pub async fn delete_address(&self, user_id: &UserId, address_id: &str) -> Result<(), AppError> {
        let user = user_id.get();
        let Ok(address) = Uuid::parse_str(address_id) else {
            return Err(AppError::not_found("address"));
        };
        let done = sqlx::query!(
            "DELETE FROM addresses WHERE id = $1 AND user_id = $2",
            address,
            user
        )
        .execute(&self.db)
        .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::not_found("address"));
        }
        Ok(())
    }
}
