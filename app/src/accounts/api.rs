//! Account server functions: authorize, call the domain, map errors.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::{Address, AppError, User};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, respond, services};

/// The account page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountData {
    pub user: User,
    pub addresses: Vec<Address>,
}

/// The signed-in user, if any (the header shows it).
#[server(prefix = "/rpc", endpoint = "accounts/me")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    // A broken session store must not break every page: show the visitor as signed out.
    Ok(auth::viewer().await.unwrap_or(None))
}

/// Creates an account, signs it in and goes to the account page.
#[server(prefix = "/rpc", endpoint = "accounts/signup")]
pub async fn signup(name: String, email: String, password: String) -> Result<User, AppError> {
    let result = async {
        let services = services()?;
        let (_, session, ip) = auth::request()?;
        let new = types::SignupRequest {
            email,
            password,
            name,
        }
        .parse()?;
        let ip_key = format!(
            "signup:ip:{}",
            ip.map(|ip| ip.to_string()).unwrap_or_default()
        );
        services
            .limiter
            .consume(&[ip_key], auth::signup_limit(&services))
            .await?;
        let signed_in = services.accounts.signup(&new).await?;
        auth::start_session(&services, &session, &signed_in).await?;
        leptos_axum::redirect("/account");
        Ok(signed_in.user)
    }
    .await;
    respond(result)
}

/// Signs in and goes to `next` (a path on this site) or the account page.
#[server(prefix = "/rpc", endpoint = "accounts/login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<User, AppError> {
    let result = async {
        let services = services()?;
        let (_, session, ip) = auth::request()?;
        let user = auth::login(
            &services,
            &session,
            ip,
            &types::Credentials { email, password },
        )
        .await?;
        leptos_axum::redirect(&auth::safe_next(next.as_deref()));
        Ok(user)
    }
    .await;
    respond(result)
}

/// Signs out everywhere this session was used and goes home.
#[server(prefix = "/rpc", endpoint = "accounts/logout")]
pub async fn logout() -> Result<(), AppError> {
    let result = async {
        let (_, session, _) = auth::request()?;
        auth::logout(&session).await?;
        leptos_axum::redirect("/");
        Ok(())
    }
    .await;
    respond(result)
}

/// The account page's data (401 for guests).
#[server(prefix = "/rpc", endpoint = "accounts/account")]
pub async fn get_account() -> Result<AccountData, AppError> {
    let result = async {
        let services = services()?;
        let user = auth::require_user().await?;
        let addresses = services.accounts.addresses(&user.id).await?;
        Ok(AccountData { user, addresses })
    }
    .await;
    respond(result)
}

/// Changes the signed-in user's name.
#[server(prefix = "/rpc", endpoint = "accounts/profile")]
pub async fn update_profile(name: String) -> Result<User, AppError> {
    let result = async {
        let services = services()?;
        let user = auth::require_user().await?;
        let mut errors = types::accounts::FormErrors::default();
        let name = errors.check("name", types::PersonName::parse(&name));
        errors.finish()?;
        let name = name.ok_or_else(|| AppError::internal("profile", "name missing"))?;
        services.accounts.update_name(&user.id, &name).await
    }
    .await;
    respond(result)
}

/// Saves a shipping address for the signed-in user.
#[server(prefix = "/rpc", endpoint = "accounts/address/add")]
pub async fn add_address(address: Address) -> Result<Address, AppError> {
    let result = async {
        let services = services()?;
        let user = auth::require_user().await?;
        services.accounts.add_address(&user.id, &address).await
    }
    .await;
    respond(result)
}

/// Deletes one of the signed-in user's addresses.
#[server(prefix = "/rpc", endpoint = "accounts/address/delete")]
pub async fn delete_address(id: String) -> Result<(), AppError> {
    let result = async {
        let services = services()?;
        let user = auth::require_user().await?;
        services.accounts.delete_address(&user.id, &id).await
    }
    .await;
    respond(result)
}

/// Emails a reset link if the account exists; the answer is the same either way.
#[server(prefix = "/rpc", endpoint = "accounts/password/forgot")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    let result = async {
        let services = services()?;
        let (_, _, ip) = auth::request()?;
        let mut errors = types::accounts::FormErrors::default();
        let email = errors.check("email", types::Email::parse(&email));
        errors.finish()?;
        let email = email.ok_or_else(|| AppError::internal("reset", "email missing"))?;
        let limit = auth::reset_limit(&services);
        services
            .limiter
            .consume(&[format!("reset:email:{email}")], limit)
            .await?;
        let ip_limit = domain::ratelimit::Limit {
            max: limit.max * 4,
            window: limit.window,
        };
        services
            .limiter
            .consume(
                &[format!(
                    "reset:ip:{}",
                    ip.map(|ip| ip.to_string()).unwrap_or_default()
                )],
                ip_limit,
            )
            .await?;
        services.accounts.request_password_reset(&email).await?;
        leptos_axum::redirect("/forgot-password?sent=1");
        Ok(())
    }
    .await;
    respond(result)
}

/// Sets a new password with an emailed token, then goes to the login page.
#[server(prefix = "/rpc", endpoint = "accounts/password/reset")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let result = async {
        let services = services()?;
        let mut errors = types::accounts::FormErrors::default();
        let password = errors.check("password", types::Password::parse(&password));
        errors.finish()?;
        let password = password.ok_or_else(|| AppError::internal("reset", "password missing"))?;
        let (_, _, ip) = auth::request()?;
        auth::reset_password(&services, ip, &token, &password).await?;
        leptos_axum::redirect("/login?reset=1");
        Ok(())
    }
    .await;
    respond(result)
}

/// Changes the signed-in user's password; their other sessions and tokens are signed out.
#[server(prefix = "/rpc", endpoint = "accounts/password/change")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let result = async {
        let services = services()?;
        let (_, session, _) = auth::request()?;
        let user = auth::require_user().await?;
        let change = types::accounts::PasswordChange {
            current_password,
            new_password,
        };
        let new = change.parse()?;
        auth::change_password(
            &services,
            Some(&session),
            &user,
            &change.current_password,
            &new,
        )
        .await?;
        leptos_axum::redirect("/account?password=changed");
        Ok(())
    }
    .await;
    respond(result)
}
