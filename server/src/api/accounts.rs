//! `/api/users` and `/api/auth/*`: the contract's account endpoints.

use super::ApiJson;
use crate::AppState;
use app::ssr::auth::{self, RequireUser};
use axum::{
    extract::State,
    http::{request::Parts, StatusCode},
    Json,
};
use tower_sessions::Session;
use types::{accounts::PasswordChange, AppError, Credentials, SignupRequest, TokenResponse, User};

/// The caller's address, read the one way the pages read it too.
fn client_ip(state: &AppState, parts: &Parts) -> Option<std::net::IpAddr> {
    auth::client_ip(parts, &state.services)
}

/// `POST /api/users`: 201 user · 409 email taken · 422 invalid.
pub async fn signup(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let new = body.parse()?;
    let ip = client_ip(&state, &parts);
    let key = format!(
        "signup:ip:{}",
        ip.map(|ip| ip.to_string()).unwrap_or_default()
    );
    state
        .services
        .limiter
        .consume(&[key], auth::signup_limit(&state.services))
        .await?;
    let signed_in = state.services.accounts.signup(&new).await?;
    Ok((StatusCode::CREATED, Json(signed_in.user)))
}

/// `POST /api/auth/login`: 200 user and a new session cookie · 401 · 429.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<User>, AppError> {
    let ip = client_ip(&state, &parts);
    auth::login(&state.services, &session, ip, &creds)
        .await
        .map(Json)
}

/// `POST /api/auth/logout`: 204, and the old session is gone from the store.
pub async fn logout(session: Session) -> Result<StatusCode, AppError> {
    auth::logout(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/token`: 200 `{"access_token","token_type","expires_in"}` · 401 · 429.
pub async fn token(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<TokenResponse>, AppError> {
    let ip = client_ip(&state, &parts);
    auth::token(&state.services, ip, &creds).await.map(Json)
}

/// `GET /api/users/me`: 200 user · 401.
pub async fn me(RequireUser(user): RequireUser) -> Json<User> {
    Json(user)
}

/// `POST /api/users/me/password`: 204 · 401 · 422 (a wrong current password, or a new one
/// that breaks the rules) · 429. Every other session and token of the user is signed out.
pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let new = body.parse()?;
    auth::change_password(
        &state.services,
        Some(&session),
        &user,
        &body.current_password,
        &new,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
