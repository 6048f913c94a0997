//! API tokens: HS256 JWTs that carry the credential version they were issued under.

use super::{Accounts, Authenticated};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use types::{AppError, TokenResponse, User, UserId};

const ISSUER: &str = "bazaar";
const AUDIENCE: &str = "bazaar-api";

/// Signing keys and lifetime of API tokens (HS256, from `JWT_SECRET`).
#[derive(Clone)]
pub struct TokenKeys {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
    /// How long an issued token is valid.
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

/// Who a valid API token names, and under which credential version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSubject {
    /// The user the token names.
    pub user_id: UserId,
    /// The credential version it was issued under.
    pub version: i32,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Accounts {
    /// A signed API token for a user who just proved who they are.
    pub fn issue_token(&self, signed_in: &Authenticated) -> Result<TokenResponse, AppError> {
        let now = now_secs();
        let claims = Claims {
            sub: signed_in.user.id.to_string(),
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
        let invalid =
            || AppError::Unauthorized("The access token is invalid or has expired.".to_owned());
        let claims = jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "rejected API token");
                invalid()
            })?
            .claims;
        Ok(TokenSubject {
            user_id: UserId::parse(&claims.sub).map_err(|_| invalid())?,
            version: claims.ver,
        })
    }

    /// The user a token names, if the token is valid and the user's credentials have not
    /// changed since it was issued (401 otherwise).
    pub async fn token_user(&self, token: &str) -> Result<User, AppError> {
        let subject = self.verify_token(token)?;
        self.find_at(&subject.user_id, subject.version)
            .await?
            .ok_or_else(|| {
                AppError::Unauthorized(
                    "This token is no longer valid: the account is gone or its password changed."
                        .to_owned(),
                )
            })
    }
}
