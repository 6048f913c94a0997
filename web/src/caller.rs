//! Who is calling. Deny is the default: no user is `Unauthorized`, a user without the role
//! is `Forbidden`, and a malformed, expired or forged token is a 401, never a guest.

use crate::session::signed_in;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use domain::Services;
use http::{header, request::Parts, HeaderMap};
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;
use types::{AppError, Role, User};

/// Who is calling, if anyone: a `Bearer` token wins, otherwise the session cookie. A
/// session signed in before a password change is signed out here.
pub async fn resolve(
    headers: &HeaderMap,
    session: Option<&Session>,
    services: &Services,
) -> Result<Option<User>, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::Unauthorized("Authorization must be `Bearer <token>`.".to_owned())
            })?;
        return services.accounts.token_user(token.trim()).await.map(Some);
    }
    let Some(session) = session else {
        return Ok(None);
    };
    let Some((id, version)) = signed_in(session).await? else {
        return Ok(None);
    };
    let user = services.accounts.find_at(&id, version).await?;
    if user.is_none() {
        // Signed in before a password change (or the account is gone): sign it out, so
        // the stale cookie is deleted rather than carried around.
        if let Err(e) = session.flush().await {
            tracing::warn!(error = %e, "could not delete a stale session");
        }
    }
    Ok(user)
}

/// Requires a signed-in user (401 otherwise).
pub fn require(user: Option<User>) -> Result<User, AppError> {
    user.ok_or_else(|| AppError::Unauthorized("Please sign in first.".to_owned()))
}

/// Requires the role: 401 for guests, 403 for everyone else.
pub fn require_role(user: Option<User>, role: Role) -> Result<User, AppError> {
    let user = require(user)?;
    if user.role == role {
        Ok(user)
    } else {
        Err(AppError::Forbidden(
            "You don't have access to this.".to_owned(),
        ))
    }
}

/// The caller's IP, honouring `X-Forwarded-For` only from trusted proxies.
pub fn client_ip(parts: &Parts, services: &Services) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Every X-Forwarded-For header, in order: a proxy may add its own line after a
    // client's, and the client's must not be the one read.
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    services.limiter.client_ip(peer, Some(&forwarded))
}

/// The caller, signed in or not.
pub struct Viewer(pub Option<User>);

impl<S> FromRequestParts<S> for Viewer
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let services = Services::from_ref(state);
        resolve(&parts.headers, parts.extensions.get::<Session>(), &services)
            .await
            .map(Viewer)
    }
}

/// A signed-in caller (401 otherwise).
pub struct RequireUser(pub User);

impl<S> FromRequestParts<S> for RequireUser
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Viewer(user) = Viewer::from_request_parts(parts, state).await?;
        require(user).map(RequireUser)
    }
}

/// An admin caller (401 for guests, 403 for shoppers).
pub struct RequireAdmin(pub User);

impl<S> FromRequestParts<S> for RequireAdmin
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Viewer(user) = Viewer::from_request_parts(parts, state).await?;
        require_role(user, Role::Admin).map(RequireAdmin)
    }
}

/// The caller's address, read the one way both doors read it.
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    Services: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &Services::from_ref(state))))
    }
}
