//! `/api/users` and `/api/auth/*`: the contract's account endpoints.

use super::ApiJson;
use super::Failures;
use crate::AppState;
use axum::{extract::State, http::StatusCode, Json};
use tower_sessions::Session;
use types::error::ErrorBody;
use types::{accounts::PasswordChange, AppError, Credentials, SignupRequest, TokenResponse, User};
use web::{ClientIp, RequireUser};

/// `POST /api/users`: 201 user · 409 email taken · 422 invalid · 429.
#[utoipa::path(
    post,
    path = "/users",
    tag = "accounts",
    operation_id = "signup",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The new account (not signed in)", body = User),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 409, description = "An account with this email already exists", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        (status = 429, description = "Too many attempts; `Retry-After` says when to try again", body = ErrorBody),
        Failures,
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let signed_in = state.services.access.sign_up(ip, &body).await?;
    Ok((StatusCode::CREATED, Json(signed_in.user)))
}

/// `POST /api/auth/login`: 200 user and a new session cookie · 401 · 429.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "accounts",
    operation_id = "login",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in: a fresh session cookie is set", body = User),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        (status = 429, description = "Too many attempts; `Retry-After` says when to try again", body = ErrorBody),
        Failures,
    )
)]
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<User>, AppError> {
    let signed_in = state.services.access.sign_in(ip, &creds).await?;
    web::start_session(&state.services, &session, &signed_in).await?;
    Ok(Json(signed_in.user))
}

/// `POST /api/auth/logout`: 204, and the old session is gone from the store.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "accounts",
    operation_id = "logout",
    responses(
        (status = 204, description = "Signed out; the session is gone from the store"),
        Failures,
    )
)]
pub async fn logout(session: Session) -> Result<StatusCode, AppError> {
    web::logout(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/token`: 200 `{"access_token","token_type","expires_in"}` · 401 · 429.
#[utoipa::path(
    post,
    path = "/auth/token",
    tag = "accounts",
    operation_id = "issueToken",
    request_body = Credentials,
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A field breaks the rules; `fields` names each", body = ErrorBody),
        (status = 429, description = "Too many attempts; `Retry-After` says when to try again", body = ErrorBody),
        Failures,
    )
)]
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<TokenResponse>, AppError> {
    state.services.access.token(ip, &creds).await.map(Json)
}

/// `GET /api/users/me`: 200 user · 401.
#[utoipa::path(
    get,
    path = "/users/me",
    tag = "accounts",
    operation_id = "me",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        Failures,
    )
)]
pub async fn me(RequireUser(user): RequireUser) -> Json<User> {
    Json(user)
}

/// `POST /api/users/me/password`: 204 · 401 · 422 (a wrong current password, or a new one
/// that breaks the rules) · 429. Every other session and token of the user is signed out.
#[utoipa::path(
    post,
    path = "/users/me/password",
    tag = "accounts",
    operation_id = "changePassword",
    request_body = PasswordChange,
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "Changed; every other session and token of the user is signed out"),
        (status = 400, description = "Malformed JSON, or a body that is not an object", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 409, description = "The password was changed meanwhile", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A wrong current password, or a new one that breaks the rules", body = ErrorBody),
        (status = 429, description = "Too many attempts; `Retry-After` says when to try again", body = ErrorBody),
        Failures,
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let signed_in = state.services.access.change_password(&user, &body).await?;
    web::session::renew_session(&state.services, &session, &signed_in).await?;
    Ok(StatusCode::NO_CONTENT)
}
