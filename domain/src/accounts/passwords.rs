//! Password reset by emailed token, and password change: both end every earlier session
//! and token of the user.

use super::hashing::{hash_password, verify_password};
use super::{user_from, Accounts, Authenticated};
use crate::outbox::{self, topics};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use types::{AppError, Email, Password, User, UserId};

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Accounts {
    /// Starts a password reset: a single-use token valid for an hour, emailed through the
    /// outbox. Unknown emails succeed silently, so the answer reveals nothing.
    pub async fn request_password_reset(&self, email: &Email) -> Result<(), AppError> {
        let Some(user) = sqlx::query!(
            "SELECT id, email FROM users WHERE email = $1",
            email.as_str()
        )
        .fetch_optional(&self.db)
        .await?
        else {
            return Ok(());
        };
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tx = self.db.begin().await?;
        sqlx::query!(
            "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')",
            token_hash(&token),
            user.id
        )
        .execute(&mut *tx)
        .await?;
        let payload = serde_json::json!({ "user_id": user.id.to_string(), "email": user.email, "secret": token });
        outbox::enqueue(&mut tx, topics::PASSWORD_RESET_REQUESTED, payload).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password with a reset token, once. Every other open token of the user
    /// dies too, and so does every session and API token from before.
    pub async fn reset_password(&self, token: &str, password: &Password) -> Result<User, AppError> {
        let invalid = || {
            AppError::BadRequest(
                "This reset link is invalid or has expired. Ask for a new one.".to_owned(),
            )
        };
        let token_hash = token_hash(token.trim());
        // The token is checked before Argon2 runs: a guess costs one indexed read, not a
        // hash. It is consumed below, under the row lock, in case two uses race.
        let live = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM password_resets
                              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()) AS "live!""#,
            token_hash
        )
        .fetch_one(&self.db)
        .await?;
        if !live {
            return Err(invalid());
        }
        let hash = hash_password(password).await?;
        let mut tx = self.db.begin().await?;
        let user_id = sqlx::query_scalar!(
            r#"UPDATE password_resets SET used_at = now()
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
               RETURNING user_id"#,
            token_hash
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(invalid)?;
        let r = sqlx::query!(
            "UPDATE users SET password_hash = $2, auth_version = auth_version + 1 WHERE id = $1 RETURNING id, email, name, role",
            user_id,
            hash
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
            user_id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user_from(r.id, r.email, r.name, &r.role))
    }

    /// Changes the password of a signed-in user who knows the current one. Every other
    /// session and every API token of theirs stops working; the caller gets the new
    /// version to carry on with. A wrong current password is a 422 on that field.
    pub async fn change_password(
        &self,
        user_id: &UserId,
        current: &str,
        new: &Password,
    ) -> Result<Authenticated, AppError> {
        let id = user_id.get();
        let stored = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", id)
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("user"))?;
        let current: String = current.chars().take(Password::MAX_CHARS).collect();
        if !verify_password(current, stored.clone()).await? {
            return Err(AppError::invalid_field(
                "current_password",
                "This is not your current password.",
            ));
        }
        let hash = hash_password(new).await?;
        // Only if nobody changed it meanwhile: the check above was against `stored`.
        let r = sqlx::query!(
            r#"UPDATE users SET password_hash = $3, auth_version = auth_version + 1
               WHERE id = $1 AND password_hash = $2
               RETURNING id, email, name, role, auth_version"#,
            id,
            stored,
            hash
        )
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("Your password was changed meanwhile. Sign in again.".to_owned())
        })?;
        sqlx::query!(
            "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
            id
        )
        .execute(&self.db)
        .await?;
        Ok(Authenticated {
            user: user_from(r.id, r.email, r.name, &r.role),
            version: r.auth_version,
        })
    }
}
