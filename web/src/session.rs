//! The session: which user it is signed in as, under which credential version, and a
//! guest's cart id.

use domain::{accounts::Authenticated, cart::CartOwner, Services};
use http::request::Parts;
use tower_sessions::Session;
use types::{AppError, User, UserId};

/// The session key holding the signed-in user's id.
pub const USER_KEY: &str = "user_id";

/// The session key holding the credential version the session was signed in under.
/// Sessions from before this key existed were signed in under the first version.
pub const AUTH_VERSION_KEY: &str = "auth_version";

/// The session key of a guest's cart id.
pub const CART_KEY: &str = "cart_id";

/// The session store failing is a 503 the shopper can retry, never a 500.
pub(crate) fn unavailable(err: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %err, "session store unavailable");
    AppError::Unavailable(
        "Signing in is briefly unavailable. Please try again in a moment.".to_owned(),
    )
}

/// The session of this request (put there by the session layer).
pub fn session_of(parts: &Parts) -> Result<Session, AppError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::internal("session", "no session layer on this route"))
}

/// The user id and credential version this session is signed in under, if any.
pub(crate) async fn signed_in(session: &Session) -> Result<Option<(UserId, i32)>, AppError> {
    let id: Option<String> = session.get(USER_KEY).await.map_err(unavailable)?;
    // An id that does not parse names nobody: the session is signed out.
    let Some(id) = id.and_then(|id| UserId::parse(&id).ok()) else {
        return Ok(None);
    };
    let version: Option<i32> = session.get(AUTH_VERSION_KEY).await.map_err(unavailable)?;
    Ok(Some((id, version.unwrap_or(1))))
}

/// Makes the user the session's user under a new session id (no fixation), and moves the
/// guest cart over.
pub async fn start_session(
    services: &Services,
    session: &Session,
    signed_in: &Authenticated,
) -> Result<(), AppError> {
    let user = &signed_in.user;
    let guest_cart: Option<String> = session.get(CART_KEY).await.map_err(unavailable)?;
    session.cycle_id().await.map_err(unavailable)?;
    session
        .insert(USER_KEY, user.id.to_string())
        .await
        .map_err(unavailable)?;
    session
        .insert(AUTH_VERSION_KEY, signed_in.version)
        .await
        .map_err(unavailable)?;
    if let Some(guest) = guest_cart {
        let _ = session.remove::<String>(CART_KEY).await;
        services
            .carts
            .merge(&CartOwner::Guest(guest), &CartOwner::User(user.id))
            .await?;
    }
    Ok(())
}

/// Carries a session on under new credentials (after a password change), if it is the
/// changed user's own session.
pub async fn renew_session(
    services: &Services,
    session: &Session,
    signed_in: &Authenticated,
) -> Result<(), AppError> {
    if signed_in_as(session).await? == Some(signed_in.user.id) {
        start_session(services, session, signed_in).await?;
    }
    Ok(())
}

async fn signed_in_as(session: &Session) -> Result<Option<UserId>, AppError> {
    Ok(signed_in(session).await?.map(|(id, _)| id))
}

/// Signs out: the session is deleted from the store, so the old cookie is worthless.
pub async fn logout(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(unavailable)
}

/// Whose cart this request reads, if it has one yet: the user's, or the guest session's.
pub async fn cart_owner(
    session: &Session,
    user: Option<&User>,
) -> Result<Option<CartOwner>, AppError> {
    if let Some(user) = user {
        return Ok(Some(CartOwner::User(user.id)));
    }
    let existing: Option<String> = session.get(CART_KEY).await.map_err(unavailable)?;
    Ok(existing.map(CartOwner::Guest))
}

/// Whose cart this request changes. A guest gets a cart id in the session (and so a
/// session cookie) only here, on the first change.
pub async fn cart_owner_or_new(
    session: &Session,
    user: Option<&User>,
) -> Result<CartOwner, AppError> {
    if let Some(owner) = cart_owner(session, user).await? {
        return Ok(owner);
    }
    // A random 128-bit id, the same generator sessions use.
    let id = tower_sessions::session::Id::default().to_string();
    session.insert(CART_KEY, &id).await.map_err(unavailable)?;
    Ok(CartOwner::Guest(id))
}
