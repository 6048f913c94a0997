//! The user service: signup, credentials, API tokens, profiles, addresses, password reset.

use crate::outbox::{self, topics};
use argon2::{
    password_hash::{
        rand_core::{OsRng, RngCore},
        PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
    },
    Argon2,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use types::{
    Address, AppError, Credentials, Email, NewUser, Password, PersonName, Role, TokenResponse, User,
};
use uuid::Uuid;

/// The one answer for every failed login: it never tells which part was wrong.
pub const BAD_CREDENTIALS: &str = "Invalid email or password.";
const ISSUER: &str = "bazaar";
const AUDIENCE: &str = "bazaar-api";

/// Signing keys and lifetime of API tokens (HS256, from `JWT_SECRET`).
#[derive(Clone)]
pub struct TokenKeys {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    pub ttl: Duration,
}

impl TokenKeys {
    /// Keys from the shared secret.
    pub fn new(secret: &str, ttl: Duration) -> Self {
        TokenKeys {
            encoding: Arc::new(EncodingKey::from_secret(secret.as_bytes())),
            decoding: Arc::new(DecodingKey::from_secret(secret.as_bytes())),
            ttl,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    iat: u64,
    iss: String,
    aud: String,
}

/// The accounts service.
#[derive(Clone)]
pub struct Accounts {
    db: PgPool,
    keys: TokenKeys,
}

fn user_from(id: Uuid, email: String, name: String, role: &str) -> User {
    User {
        id: id.to_string(),
        email,
        name,
        role: Role::parse(role),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Hashes with argon2id on the blocking pool: it is slow on purpose.
pub async fn hash_password(password: &Password) -> Result<String, AppError> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| AppError::internal("hash task", e))?
    .map_err(|e| AppError::internal("argon2 hash", e))
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AppError::internal("stored hash", e))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AppError::internal("verify task", e))?
}

/// A real argon2 hash to verify against when the email is unknown, so both failures cost
/// the same time and timing does not reveal which accounts exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not-a-real-password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Queues `user_created` for `user` inside the caller's transaction.
async fn user_created(tx: &mut sqlx::PgConnection, user: &User) -> Result<(), AppError> {
    let payload = outbox::user_payload(&user.id, &user.email, &user.name);
    outbox::enqueue(tx, topics::USER_CREATED, payload)
        .await
        .map(|_| ())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Accounts {
    /// The service on `db`, signing tokens with `keys`.
    pub fn new(db: PgPool, keys: TokenKeys) -> Self {
        Accounts { db, keys }
    }

    /// Creates a customer and queues `user_created` in the same transaction. 409 if the
    /// email is taken.
    pub async fn signup(&self, new: &NewUser) -> Result<User, AppError> {
        let hash = hash_password(&new.password).await?;
        let mut tx = self.db.begin().await?;
        let row = sqlx::query!(
            r#"INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
               ON CONFLICT (email) DO NOTHING
               RETURNING id, email, name, role"#,
            new.email.as_str(),
            new.name.as_str(),
            hash
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("An account with this email already exists.".to_owned())
        })?;
        let user = user_from(row.id, row.email, row.name, &row.role);
        user_created(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Checks credentials. Unknown email and wrong password give the same 401.
    pub async fn authenticate(&self, creds: &Credentials) -> Result<User, AppError> {
        let unauthorized = || AppError::Unauthorized(BAD_CREDENTIALS.to_owned());
        let email = Email::parse(&creds.email).ok();
        let row = match &email {
            Some(email) => {
                sqlx::query!(
                    "SELECT id, email, name, role, password_hash FROM users WHERE email = $1",
                    email.as_str()
                )
                .fetch_optional(&self.db)
                .await?
            }
            None => None,
        };
        let password = creds
            .password
            .chars()
            .take(Password::MAX_CHARS)
            .collect::<String>();
        match row {
            Some(r) => {
                if verify_password(password, r.password_hash).await? {
                    Ok(user_from(r.id, r.email, r.name, &r.role))
                } else {
                    Err(unauthorized())
                }
            }
            None => {
                let _ = verify_password(password, dummy_hash().to_owned()).await;
                Err(unauthorized())
            }
        }
    }

    /// The user with `id`, if they still exist.
    pub async fn find(&self, id: &str) -> Result<Option<User>, AppError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row = sqlx::query!("SELECT id, email, name, role FROM users WHERE id = $1", id)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.map(|r| user_from(r.id, r.email, r.name, &r.role)))
    }

    /// Creates an admin, or promotes an existing account and sets its password.
    pub async fn create_admin(
        &self,
        email: &Email,
        password: &Password,
        name: &PersonName,
    ) -> Result<User, AppError> {
        let hash = hash_password(password).await?;
        let mut tx = self.db.begin().await?;
        let row = sqlx::query!(
            r#"INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, 'admin')
               ON CONFLICT (email) DO UPDATE SET role = 'admin', password_hash = EXCLUDED.password_hash
               RETURNING id, email, name, role, (xmax = 0) AS "created!""#,
            email.as_str(),
            name.as_str(),
            hash
        )
        .fetch_one(&mut *tx)
        .await?;
        let user = user_from(row.id, row.email, row.name, &row.role);
        if row.created {
            user_created(&mut tx, &user).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// A signed API token for `user`.
    pub fn issue_token(&self, user: &User) -> Result<TokenResponse, AppError> {
        let now = now_secs();
        let claims = Claims {
            sub: user.id.clone(),
            iat: now,
            exp: now + self.keys.ttl.as_secs(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.keys.encoding)
                .map_err(|e| AppError::internal("jwt encode", e))?;
        Ok(TokenResponse {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: self.keys.ttl.as_secs(),
        })
    }

    /// The user id in a valid token. Expired, tampered, foreign or unsigned tokens are 401.
    pub fn verify_token(&self, token: &str) -> Result<String, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &validation)
            .map(|data| data.claims.sub)
            .map_err(|e| {
                tracing::debug!(error = %e, "rejected API token");
                AppError::Unauthorized("The access token is invalid or has expired.".to_owned())
            })
    }

    /// Changes the display name.
    pub async fn update_name(&self, user_id: &str, name: &PersonName) -> Result<User, AppError> {
        let id = Uuid::parse_str(user_id).map_err(|_| AppError::not_found("user"))?;
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
    pub async fn addresses(&self, user_id: &str) -> Result<Vec<Address>, AppError> {
        let id = Uuid::parse_str(user_id).map_err(|_| AppError::not_found("user"))?;
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
    pub async fn add_address(&self, user_id: &str, address: &Address) -> Result<Address, AppError> {
        let id = Uuid::parse_str(user_id).map_err(|_| AppError::not_found("user"))?;
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
    pub async fn delete_address(&self, user_id: &str, address_id: &str) -> Result<(), AppError> {
        let (Ok(user), Ok(address)) = (Uuid::parse_str(user_id), Uuid::parse_str(address_id))
        else {
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

    /// Sets a new password with a reset token, once. Every other open token of the user dies too.
    pub async fn reset_password(&self, token: &str, password: &Password) -> Result<User, AppError> {
        let invalid = || {
            AppError::BadRequest(
                "This reset link is invalid or has expired. Ask for a new one.".to_owned(),
            )
        };
        let hash = hash_password(password).await?;
        let mut tx = self.db.begin().await?;
        let user_id = sqlx::query_scalar!(
            r#"UPDATE password_resets SET used_at = now()
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
               RETURNING user_id"#,
            token_hash(token.trim())
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(invalid)?;
        let r = sqlx::query!(
            "UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id, email, name, role",
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
}
