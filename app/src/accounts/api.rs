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

/// Creates an account, signs it in and goes to the account page.
#[server(prefix = "/rpc", endpoint = "accounts/signup")]
pub async fn signup(name: String, email: String, password: String) -> Result<User, AppError> {
    let result = async {
        let services = services()?;
        let (session, ip) = auth::request()?;
        let body = types::SignupRequest {
            email,
            password,
            name,
        };
        let signed_in = services.access.sign_up(ip, &body).await?;
        web::start_session(&services, &session, &signed_in).await?;
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
        let (session, ip) = auth::request()?;
        let creds = types::Credentials { email, password };
        let signed_in = services.access.sign_in(ip, &creds).await?;
        web::start_session(&services, &session, &signed_in).await?;
        leptos_axum::redirect(&auth::safe_next(next.as_deref()));
        Ok(signed_in.user)
    }
    .await;
    respond(result)
}

/// Signs out everywhere this session was used and goes home.
#[server(prefix = "/rpc", endpoint = "accounts/logout")]
pub async fn logout() -> Result<(), AppError> {
    let result = async {
        let (session, _) = auth::request()?;
        web::logout(&session).await?;
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
        let (_, ip) = auth::request()?;
        services()?.access.request_reset(ip, &email).await?;
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
        let (_, ip) = auth::request()?;
        services()?
            .access
            .reset_password(ip, &token, &password)
            .await?;
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
        let (session, _) = auth::request()?;
        let user = auth::require_user().await?;
        let change = types::accounts::PasswordChange {
            current_password,
            new_password,
        };
        let signed_in = services.access.change_password(&user, &change).await?;
        web::session::renew_session(&services, &session, &signed_in).await?;
        leptos_axum::redirect("/account?password=changed");
        Ok(())
    }
    .await;
    respond(result)
}
