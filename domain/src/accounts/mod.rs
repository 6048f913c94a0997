//! The user service: signup, credentials, sessions' and tokens' credential versions,
//! profiles and addresses, password reset and change, and the merchant's customer list.

mod access;
mod customers;
mod hashing;
mod passwords;
mod profile;
mod tokens;

pub use access::Access;
pub use hashing::{hash_password, hashes_in_flight, hashes_started};
pub use tokens::{TokenKeys, TokenSubject};

use crate::outbox::{self, topics};
use hashing::{dummy_hash, verify_password};
use sqlx::PgPool;
use types::{AppError, Credentials, Email, NewUser, Password, PersonName, Role, User, UserId};
use uuid::Uuid;

/// The one answer for every failed login: it never tells which part was wrong.
pub const BAD_CREDENTIALS: &str = "Invalid email or password.";

/// A user whose proof of identity was just checked, with the credential version it was
/// checked against. Sessions and tokens made from it die when the password changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The user whose credentials were checked.
    pub user: User,
    /// The credential version they were checked against.
    pub version: i32,
}

/// The accounts service.
#[derive(Clone)]
pub struct Accounts {
    db: PgPool,
    keys: TokenKeys,
}

fn user_from(id: Uuid, email: String, name: String, role: &str) -> User {
    User {
        id: id.into(),
        email,
        name,
        role: Role::parse(role),
    }
}

/// Queues `user_created` for `user` inside the caller's transaction.
async fn user_created(tx: &mut sqlx::PgConnection, user: &User) -> Result<(), AppError> {
    let payload = outbox::user_payload(&user.id.to_string(), &user.email, &user.name);
    outbox::enqueue(tx, topics::USER_CREATED, payload)
        .await
        .map(|_| ())
}

impl Accounts {
    /// The service on `db`, signing tokens with `keys`.
    pub fn new(db: PgPool, keys: TokenKeys) -> Self {
        Accounts { db, keys }
    }

    /// Creates a customer and queues `user_created` in the same transaction. 409 if the
    /// email is taken.
    pub async fn signup(&self, new: &NewUser) -> Result<Authenticated, AppError> {
        let hash = hash_password(&new.password).await?;
        let mut tx = self.db.begin().await?;
        let row = sqlx::query!(
            r#"INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
               ON CONFLICT (email) DO NOTHING
               RETURNING id, email, name, role, auth_version"#,
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
        Ok(Authenticated {
            user,
            version: row.auth_version,
        })
    }

    /// Checks credentials. Unknown email and wrong password give the same 401.
    pub async fn authenticate(&self, creds: &Credentials) -> Result<Authenticated, AppError> {
        let unauthorized = || AppError::Unauthorized(BAD_CREDENTIALS.to_owned());
        let email = Email::parse(&creds.email).ok();
        let row = match &email {
            Some(email) => {
                sqlx::query!(
                    "SELECT id, email, name, role, password_hash, auth_version FROM users WHERE email = $1",
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
                    Ok(Authenticated {
                        user: user_from(r.id, r.email, r.name, &r.role),
                        version: r.auth_version,
                    })
                } else {
                    Err(unauthorized())
                }
            }
            None => {
                let _ = verify_password(password, dummy_hash().await?.to_owned()).await;
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

    /// The user with `id`, if they still exist and `version` is still their credential
    /// version: a session or token from before a password change finds nobody.
    pub async fn find_at(&self, id: &UserId, version: i32) -> Result<Option<User>, AppError> {
        let id = id.get();
        let row = sqlx::query!(
            "SELECT id, email, name, role FROM users WHERE id = $1 AND auth_version = $2",
            id,
            version
        )
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
               ON CONFLICT (email) DO UPDATE SET role = 'admin', password_hash = EXCLUDED.password_hash,
                                                 auth_version = users.auth_version + 1
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
}
