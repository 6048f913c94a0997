//! The one authentication path. Every server function and API route that needs a user
//! goes through `resolve`: a `Bearer` token wins, otherwise the session cookie. Deny is
//! the default: no user is `Unauthorized`, a user without the role is `Forbidden`.

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use domain::{accounts::Authenticated, cart::CartOwner, ratelimit::Limit, Services};
use http::{header, request::Parts, HeaderMap};
use leptos::prelude::*;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;
use types::{AppError, Credentials, Role, TokenResponse, User};

/// The session key holding the signed-in user's id.
pub const USER_KEY: &str = "user_id";

/// The session key holding the credential version the session was signed in under.
/// Sessions from before this key existed were signed in under the first version.
pub const AUTH_VERSION_KEY: &str = "auth_version";

/// Failed logins (and token requests) allowed per email and per IP in one window.
pub fn login_limit(services: &Services) -> Limit {
    Limit {
        max: 5,
        window: services.limiter.window(),
    }
}

/// Signups allowed per IP: ten per ten windows.
pub fn signup_limit(services: &Services) -> Limit {
    Limit {
        max: 10,
        window: services.limiter.window() * 10,
    }
}

/// Password-reset requests allowed per email (and four times that per IP) in fifteen windows.
pub fn reset_limit(services: &Services) -> Limit {
    Limit {
        max: 5,
        window: services.limiter.window() * 15,
    }
}

fn session_unavailable(err: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %err, "session store unavailable");
    AppError::Unavailable(
        "Signing in is briefly unavailable. Please try again in a moment.".to_owned(),
    )
}

/// Who is calling, if anyone. A malformed, expired or forged token is a 401, never a guest.
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
        let subject = services.accounts.verify_token(token.trim())?;
        return match services
            .accounts
            .find_at(&subject.user_id, subject.version)
            .await?
        {
            Some(user) => Ok(Some(user)),
            None => Err(AppError::Unauthorized(
                "This token is no longer valid: the account is gone or its password changed."
                    .to_owned(),
            )),
        };
    }
    let Some(session) = session else {
        return Ok(None);
    };
    let id: Option<String> = session.get(USER_KEY).await.map_err(session_unavailable)?;
    let Some(id) = id else {
        return Ok(None);
    };
    let version: Option<i32> = session
        .get(AUTH_VERSION_KEY)
        .await
        .map_err(session_unavailable)?;
    let user = services.accounts.find_at(&id, version.unwrap_or(1)).await?;
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

/// Requires an admin: 401 for guests, 403 for everyone else.
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

/// The counters a login attempt is judged by. Only a well-formed address can name an
/// account, so only one gets a per-email key: anything else (up to the body limit in
/// size) is limited by IP alone and never becomes a Redis key of the caller's length.
fn login_keys(creds: &Credentials, ip: Option<IpAddr>) -> Vec<String> {
    let email = types::Email::parse(&creds.email).ok();
    let mut keys: Vec<String> = email
        .map(|e| format!("login:email:{e}"))
        .into_iter()
        .collect();
    keys.extend(ip.map(|ip| format!("login:ip:{ip}")));
    keys
}

async fn checked_credentials(
    services: &Services,
    ip: Option<IpAddr>,
    creds: &Credentials,
) -> Result<Authenticated, AppError> {
    let keys = login_keys(creds, ip);
    // Counted before Argon2 runs, so concurrent guesses cannot all slip past the limit.
    let attempt = services
        .limiter
        .attempt(&keys, login_limit(services))
        .await?;
    match services.accounts.authenticate(creds).await {
        Err(err @ AppError::Unauthorized(_)) => Err(err),
        other => {
            // Only failures count: a shopper who signs in fine is never throttled.
            attempt.refund().await;
            other
        }
    }
}

/// Signs in: throttled credentials check, then a fresh session id (no fixation).
pub async fn login(
    services: &Services,
    session: &Session,
    ip: Option<IpAddr>,
    creds: &Credentials,
) -> Result<User, AppError> {
    let signed_in = checked_credentials(services, ip, creds).await?;
    start_session(services, session, &signed_in).await?;
    Ok(signed_in.user)
}

/// The session key of a guest's cart id.
pub const CART_KEY: &str = "cart_id";

/// Makes `user` the session's user under a new session id, and moves the guest cart over.
pub async fn start_session(
    services: &Services,
    session: &Session,
    signed_in: &Authenticated,
) -> Result<(), AppError> {
    let user = &signed_in.user;
    let guest_cart: Option<String> = session.get(CART_KEY).await.map_err(session_unavailable)?;
    session.cycle_id().await.map_err(session_unavailable)?;
    session
        .insert(USER_KEY, &user.id)
        .await
        .map_err(session_unavailable)?;
    session
        .insert(AUTH_VERSION_KEY, signed_in.version)
        .await
        .map_err(session_unavailable)?;
    if let Some(guest) = guest_cart {
        let _ = session.remove::<String>(CART_KEY).await;
        services
            .carts
            .merge(&CartOwner::Guest(guest), &CartOwner::User(user.id.clone()))
            .await?;
    }
    Ok(())
}

/// Whose cart this request works on. A guest gets a cart id in the session (and so a
/// session cookie) only when `create` is set, i.e. on the first change.
pub async fn cart_owner(
    session: &Session,
    user: Option<&User>,
    create: bool,
) -> Result<Option<CartOwner>, AppError> {
    if let Some(user) = user {
        return Ok(Some(CartOwner::User(user.id.clone())));
    }
    let existing: Option<String> = session.get(CART_KEY).await.map_err(session_unavailable)?;
    match existing {
        Some(id) => Ok(Some(CartOwner::Guest(id))),
        None if create => {
            // A random 128-bit id, the same generator sessions use.
            let id = tower_sessions::session::Id::default().to_string();
            session
                .insert(CART_KEY, &id)
                .await
                .map_err(session_unavailable)?;
            Ok(Some(CartOwner::Guest(id)))
        }
        None => Ok(None),
    }
}

/// The idempotency scope of a checkout: the user, or the guest's cart.
pub fn checkout_scope(owner: &CartOwner) -> String {
    match owner {
        CartOwner::User(id) => format!("user:{id}"),
        CartOwner::Guest(id) => format!("guest:{id}"),
    }
}

/// Issues an API token for valid credentials, throttled like login.
pub async fn token(
    services: &Services,
    ip: Option<IpAddr>,
    creds: &Credentials,
) -> Result<TokenResponse, AppError> {
    let signed_in = checked_credentials(services, ip, creds).await?;
    services.accounts.issue_token(&signed_in)
}

/// Wrong reset tokens allowed per IP in fifteen windows: enough for a shopper who
/// mistypes a link, never a search of the token space.
pub fn reset_confirm_limit(services: &Services) -> Limit {
    Limit {
        max: 10,
        window: services.limiter.window() * 15,
    }
}

/// Sets a new password with an emailed token, throttled per IP: only wrong tokens count.
pub async fn reset_password(
    services: &Services,
    ip: Option<IpAddr>,
    token: &str,
    password: &types::Password,
) -> Result<User, AppError> {
    let key = format!(
        "reset-confirm:ip:{}",
        ip.map(|ip| ip.to_string()).unwrap_or_default()
    );
    let attempt = services
        .limiter
        .attempt(&[key], reset_confirm_limit(services))
        .await?;
    let user = services.accounts.reset_password(token, password).await?;
    attempt.refund().await;
    Ok(user)
}

/// Current-password guesses allowed per account in one window, like logins.
fn password_change_limit(services: &Services) -> Limit {
    login_limit(services)
}

/// Changes the caller's password. Every other session and token of theirs is signed out;
/// this session, if the caller used one, carries on under the new credentials.
pub async fn change_password(
    services: &Services,
    session: Option<&Session>,
    user: &User,
    current: &str,
    new: &types::Password,
) -> Result<(), AppError> {
    let attempt = services
        .limiter
        .attempt(
            &[format!("password:user:{}", user.id)],
            password_change_limit(services),
        )
        .await?;
    let signed_in = services
        .accounts
        .change_password(&user.id, current, new)
        .await?;
    attempt.refund().await;
    if let Some(session) = session {
        let id: Option<String> = session.get(USER_KEY).await.map_err(session_unavailable)?;
        if id.as_deref() == Some(user.id.as_str()) {
            start_session(services, session, &signed_in).await?;
        }
    }
    Ok(())
}

/// Signs out: the session is deleted from the store, so the old cookie is worthless.
pub async fn logout(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_unavailable)
}

/// The session of this request (put there by the session layer).
pub fn session_of(parts: &Parts) -> Result<Session, AppError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::internal("auth", "no session layer on this route"))
}

// Server functions: the request parts are in the Leptos context.

fn request_parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| AppError::internal("auth", "request parts not in context"))
}

/// The signed-in user of this server-function call or page render, if any.
pub async fn viewer() -> Result<Option<User>, AppError> {
    let parts = request_parts()?;
    let services = super::services()?;
    resolve(&parts.headers, parts.extensions.get::<Session>(), &services).await
}

/// The signed-in user, or 401.
pub async fn require_user() -> Result<User, AppError> {
    require(viewer().await?)
}

/// An admin, or 401/403.
pub async fn require_admin() -> Result<User, AppError> {
    require_role(viewer().await?, Role::Admin)
}

/// The request parts, session and client IP of this server-function call.
pub fn request() -> Result<(Parts, Session, Option<IpAddr>), AppError> {
    let parts = request_parts()?;
    let services = super::services()?;
    let session = session_of(&parts)?;
    let ip = client_ip(&parts, &services);
    Ok((parts, session, ip))
}

// Axum extractors for the JSON API: the same `resolve` behind them.

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

/// Keeps only same-site paths for post-login redirects, judged the way a browser reads the
/// `Location`: it drops tabs and newlines, trims spaces and control characters, and takes
/// `\` for `/`, so `/<TAB>/evil.example` and `\/evil.example` both mean `//evil.example`.
/// Anything that is not a plain printable-ASCII path goes to `/account`.
pub fn safe_next(next: Option<&str>) -> String {
    const FALLBACK: &str = "/account";
    let Some(next) = next else {
        return FALLBACK.to_owned();
    };
    let read: String = next
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let printable = read.chars().all(|c| c.is_ascii_graphic());
    let mut chars = read.chars();
    let same_site = chars.next() == Some('/') && chars.next() != Some('/');
    // An encoded slash in the path is never needed here, and a proxy that decodes it would
    // see `//evil.example` again.
    let path = read
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let encoded_slash = path.contains("%2f") || path.contains("%5c");
    if printable && same_site && !encoded_slash {
        read
    } else {
        FALLBACK.to_owned()
    }
}

/// The admin's identity for the audit trail.
pub fn actor(user: &User) -> Result<domain::admin::Actor, AppError> {
    domain::admin::Actor::of(user)
}

/// The calling admin as an audit actor, or 401/403.
pub async fn require_admin_actor() -> Result<domain::admin::Actor, AppError> {
    actor(&require_admin().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next(Some("/orders")), "/orders");
        assert_eq!(safe_next(Some("/search?q=a%2Fb")), "/search?q=a%2Fb");
        for bad in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil"),
            Some("\\/evil"),
            Some("/\t/evil.example"),
            Some("/\n/evil.example"),
            Some(" //evil.example"),
            Some("\u{1}//evil.example"),
            Some("/%2F/evil.example"),
            Some("/%5c%5cevil.example"),
            Some("/caf\u{e9}"),
            Some("orders"),
            Some(""),
        ] {
            assert_eq!(safe_next(bad), "/account", "{bad:?}");
        }
    }
}
