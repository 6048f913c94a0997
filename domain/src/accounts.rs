//! The user service: signup, credentials, API tokens, profiles, addresses, password reset.

use crate::outbox::{self, topics};
use argon2::{
    password_hash::{
        self,
        rand_core::{OsRng, RngCore},
        Output, ParamsString, PasswordHash, Salt, SaltString,
    },
    Argon2, Block, Params, Version,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::cell::RefCell;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Semaphore;
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
    /// The credential version the token was issued under; tokens from before this claim
    /// existed carry the first version.
    #[serde(default = "first_version")]
    ver: i32,
}

fn first_version() -> i32 {
    1
}

/// A user whose proof of identity was just checked, with the credential version it was
/// checked against. Sessions and tokens made from it die when the password changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub user: User,
    pub version: i32,
}

/// Who a valid API token names, and under which credential version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: String,
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

/// A job for a hasher thread.
type HashJob = Box<dyn FnOnce() + Send>;

/// Argon2 runs on a fixed pool of threads, one per CPU, never on the blocking pool. Each
/// hash takes 19 MiB and a core for about a tenth of a second: on the blocking pool (512
/// threads) a burst of logins or resets would run them all at once, and every thread's
/// allocator arena would keep its 19 MiB afterwards. Here at most one hash per CPU runs,
/// and at most that many arenas hold the memory.
struct Hashers {
    jobs: std::sync::mpsc::Sender<HashJob>,
    /// One per thread: a caller holds one from before its job is queued until it is done.
    permits: Arc<Semaphore>,
    size: usize,
}

static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let size = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
    let queue = Arc::new(std::sync::Mutex::new(queue));
    for n in 0..size {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || loop {
                // The lock is held only while taking a job, not while running it.
                let job = match queue.lock() {
                    Ok(queue) => queue.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a password hasher thread");
        }
    }
    Hashers {
        jobs,
        permits: Arc::new(Semaphore::new(size)),
        size,
    }
});

/// How long a caller waits for a free hasher before it is told to come back (503).
const HASHER_WAIT: Duration = Duration::from_secs(5);

/// Argon2 computations started since the process began (hashes and verifications).
static HASHES_STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many Argon2 computations this process has started: tests use it to show that a
/// request was turned away before it cost a hash.
pub fn hashes_started() -> u64 {
    HASHES_STARTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The hashes running or queued right now, never more than the hasher threads.
pub fn hashes_in_flight() -> usize {
    HASHERS
        .size
        .saturating_sub(HASHERS.permits.available_permits())
}

/// Runs one Argon2 computation on a hasher thread once one is free (503 after waiting
/// [`HASHER_WAIT`]). The permit travels with the job, so a caller that gives up does not
/// free its place before the hash is done.
async fn with_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = tokio::time::timeout(HASHER_WAIT, HASHERS.permits.clone().acquire_owned())
        .await
        .map_err(|_| {
            AppError::Unavailable(
                "Too many sign-ins at once. Please try again in a moment.".to_owned(),
            )
        })?
        .map_err(|e| AppError::internal("hasher semaphore", e))?;
    HASHES_STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (done, result) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _permit = permit;
        let _ = done.send(work());
    });
    HASHERS
        .jobs
        .send(job)
        .map_err(|e| AppError::internal("hasher pool", e))?;
    result.await.map_err(|e| AppError::internal("hash task", e))
}

/// Argon2id with the crate's defaults, which are OWASP's first recommendation: 19 MiB of
/// memory (m = 19456 KiB), two passes (t = 2), one lane (p = 1).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

thread_local! {
    /// Each hasher thread's Argon2 memory, allocated once and reused: allocating 19 MiB
    /// per hash leaves the allocator holding far more than the hashes in flight.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// One Argon2 computation with `argon`, into the thread's reused memory.
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    len: usize,
) -> Result<Output, password_hash::Error> {
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    let count = argon.params().block_count();
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        let memory = blocks.get_mut(..count).unwrap_or_default();
        Output::init_with(len, |out| {
            Ok(argon.hash_password_into_with_memory(password, salt, out, &mut *memory)?)
        })
    })
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password` with a fresh salt.
fn hash_phc(password: &[u8]) -> Result<String, password_hash::Error> {
    let argon = argon2();
    let params = argon.params().clone();
    let salt = SaltString::generate(&mut OsRng);
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(&argon, password, salt.as_salt(), len)?;
    Ok(PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Whether `password` matches a stored PHC string, with the parameters stored in it.
fn verify_phc(password: &[u8], stored: &str) -> Result<bool, password_hash::Error> {
    let hash = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(password_hash::Error::PhcStringField);
    };
    let algorithm = argon2::Algorithm::try_from(hash.algorithm)?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let argon = Argon2::new(algorithm, version, Params::try_from(&hash)?);
    // `Output` compares in constant time.
    Ok(compute(&argon, password, salt, expected.len())? == expected)
}

/// Hashes with argon2id on a hasher thread: it is slow on purpose.
pub async fn hash_password(password: &Password) -> Result<String, AppError> {
    let password = password.expose().to_owned();
    with_hasher(move || hash_phc(password.as_bytes()))
        .await?
        .map_err(|e| AppError::internal("argon2 hash", e))
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    with_hasher(move || verify_phc(password.as_bytes(), &hash))
        .await?
        .map_err(|e| AppError::internal("stored hash", e))
}

/// A real argon2 hash to verify against when the email is unknown, so both failures cost
/// the same time and timing does not reveal which accounts exist.
async fn dummy_hash() -> Result<&'static str, AppError> {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_try_init(|| async {
        let password = Password::parse("not-a-real-password")
            .map_err(|e| AppError::internal("dummy password", e))?;
        hash_password(&password).await
    })
    .await
    .map(String::as_str)
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
    pub async fn find_at(&self, id: &str, version: i32) -> Result<Option<User>, AppError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
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

    /// A signed API token for a user who just proved who they are.
    pub fn issue_token(&self, signed_in: &Authenticated) -> Result<TokenResponse, AppError> {
        let now = now_secs();
        let claims = Claims {
            sub: signed_in.user.id.clone(),
            ver: signed_in.version,
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

    /// Who a valid token names. Expired, tampered, foreign or unsigned tokens are 401.
    pub fn verify_token(&self, token: &str) -> Result<TokenSubject, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &validation)
            .map(|data| TokenSubject {
                user_id: data.claims.sub,
                version: data.claims.ver,
            })
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
        user_id: &str,
        current: &str,
        new: &Password,
    ) -> Result<Authenticated, AppError> {
        let id = Uuid::parse_str(user_id).map_err(|_| AppError::not_found("user"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The process's peak resident memory so far, in KiB (`VmHWM`).
    fn peak_rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let password = Password::parse("correct horse battery").expect("password");
        let ours = hash_password(&password).await.expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(
            verify_password("correct horse battery".into(), theirs.clone())
                .await
                .expect("verify")
        );
        assert!(!verify_password("wrong horse battery".into(), theirs)
            .await
            .expect("verify"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn forty_concurrent_hashes_run_one_per_cpu_and_memory_stays_bounded() {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let password = Password::parse("correct horse battery").expect("password");
        // One hash first, so what the allocator keeps after it is in the baseline.
        hash_password(&password).await.expect("hash");
        let before = peak_rss_kib();
        let sampler = tokio::spawn(async {
            let mut most = 0;
            for _ in 0..400 {
                most = most.max(hashes_in_flight());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            most
        });
        let hashes: Vec<_> = (0..40)
            .map(|_| {
                let password = password.clone();
                tokio::spawn(async move { hash_password(&password).await })
            })
            .collect();
        for h in hashes {
            assert!(
                h.await.expect("join").is_ok(),
                "every caller is served in turn"
            );
        }
        let most = sampler.await.expect("sampler");
        let grew_mib = peak_rss_kib().saturating_sub(before) / 1024;
        assert!(most <= cpus, "{most} hashes at once on {cpus} CPUs");
        // 19 MiB per running hash; forty at once would be 760 MiB.
        let bound = 19 * cpus as u64 + 48;
        assert!(
            grew_mib <= bound,
            "peak memory grew {grew_mib} MiB (bound {bound})"
        );
    }
}
