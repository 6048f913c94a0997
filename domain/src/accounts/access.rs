//! Signing up, signing in and changing credentials as the doors see them: the input
//! parsed, the throttle that guards each credential applied, then the account service.
//! Throttles count before Argon2 runs, so concurrent guesses cannot slip past a limit,
//! and only failures count: a shopper who signs in fine is never throttled.

use super::{Accounts, Authenticated};
use crate::ratelimit::{Limit, RateLimiter};
use std::net::IpAddr;
use types::accounts::{FormErrors, PasswordChange};
use types::{AppError, Credentials, Email, Password, SignupRequest, TokenResponse, User};

/// The throttled credential use-cases.
#[derive(Clone)]
pub struct Access {
    accounts: Accounts,
    limiter: RateLimiter,
}

fn ip_key(prefix: &str, ip: Option<IpAddr>) -> String {
    format!(
        "{prefix}:ip:{}",
        ip.map(|ip| ip.to_string()).unwrap_or_default()
    )
}

impl Access {
    /// The use-cases over the account service and the limiter.
    pub fn new(accounts: Accounts, limiter: RateLimiter) -> Self {
        Access { accounts, limiter }
    }

    /// Failed logins (and token requests) allowed per email and per IP in one window.
    pub fn login_limit(&self) -> Limit {
        Limit {
            max: 5,
            window: self.limiter.window(),
        }
    }

    /// Signups allowed per IP: ten per ten windows.
    pub fn signup_limit(&self) -> Limit {
        Limit {
            max: 10,
            window: self.limiter.window() * 10,
        }
    }

    /// Password-reset requests allowed per email (and four times that per IP) in fifteen
    /// windows.
    pub fn reset_limit(&self) -> Limit {
        Limit {
            max: 5,
            window: self.limiter.window() * 15,
        }
    }

    /// Wrong reset tokens allowed per IP in fifteen windows: enough for a shopper who
    /// mistypes a link, never a search of the token space.
    pub fn reset_confirm_limit(&self) -> Limit {
        Limit {
            max: 10,
            window: self.limiter.window() * 15,
        }
    }

    /// Creates an account: 422 for a bad body, 429 past the per-IP signup limit, 409 for a
    /// taken email.
    #[tracing::instrument(skip_all)]
    pub async fn sign_up(
        &self,
        ip: Option<IpAddr>,
        body: &SignupRequest,
    ) -> Result<Authenticated, AppError> {
        let new = body.parse()?;
        self.limiter
            .consume(&[ip_key("signup", ip)], self.signup_limit())
            .await?;
        self.accounts.signup(&new).await
    }

    /// The counters a login attempt is judged by. Only a well-formed address can name an
    /// account, so only one gets a per-email key: anything else (up to the body limit in
    /// size) is limited by IP alone and never becomes a Redis key of the caller's length.
    fn login_keys(creds: &Credentials, ip: Option<IpAddr>) -> Vec<String> {
        let email = Email::parse(&creds.email).ok();
        let mut keys: Vec<String> = email
            .map(|e| format!("login:email:{e}"))
            .into_iter()
            .collect();
        keys.extend(ip.map(|ip| format!("login:ip:{ip}")));
        keys
    }

    /// Checks credentials under the login throttle: 401 for wrong ones, 429 past the limit.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        ip: Option<IpAddr>,
        creds: &Credentials,
    ) -> Result<Authenticated, AppError> {
        let attempt = self
            .limiter
            .attempt(&Self::login_keys(creds, ip), self.login_limit())
            .await?;
        match self.accounts.authenticate(creds).await {
            Err(err @ AppError::Unauthorized(_)) => Err(err),
            other => {
                attempt.refund().await;
                other
            }
        }
    }

    /// Issues an API token for valid credentials, throttled like a login.
    pub async fn token(
        &self,
        ip: Option<IpAddr>,
        creds: &Credentials,
    ) -> Result<TokenResponse, AppError> {
        let signed_in = self.sign_in(ip, creds).await?;
        self.accounts.issue_token(&signed_in)
    }

    /// Emails a reset link if the account exists; the answer is the same either way. 422
    /// for a malformed email, 429 past the per-email or per-IP limit.
    pub async fn request_reset(&self, ip: Option<IpAddr>, email: &str) -> Result<(), AppError> {
        let mut errors = FormErrors::default();
        let email = errors.check("email", Email::parse(email));
        errors.finish()?;
        let email = email.ok_or_else(|| AppError::internal("reset", "email missing"))?;
        let limit = self.reset_limit();
        self.limiter
            .consume(&[format!("reset:email:{email}")], limit)
            .await?;
        let per_ip = Limit {
            max: limit.max * 4,
            window: limit.window,
        };
        self.limiter.consume(&[ip_key("reset", ip)], per_ip).await?;
        self.accounts.request_password_reset(&email).await
    }

    /// Sets a new password with an emailed token, throttled per IP: only wrong tokens
    /// count. 422 for a password that breaks the rules, 400 for a dead token.
    pub async fn reset_password(
        &self,
        ip: Option<IpAddr>,
        token: &str,
        password: &str,
    ) -> Result<User, AppError> {
        let mut errors = FormErrors::default();
        let password = errors.check("password", Password::parse(password));
        errors.finish()?;
        let password = password.ok_or_else(|| AppError::internal("reset", "password missing"))?;
        let attempt = self
            .limiter
            .attempt(&[ip_key("reset-confirm", ip)], self.reset_confirm_limit())
            .await?;
        let user = self.accounts.reset_password(token, &password).await?;
        attempt.refund().await;
        Ok(user)
    }

    /// Changes the caller's password; current-password guesses are limited per account
    /// like logins. Every other session and token of theirs is signed out: the answer is
    /// the credential version to carry this session on with.
    pub async fn change_password(
        &self,
        user: &User,
        change: &PasswordChange,
    ) -> Result<Authenticated, AppError> {
        let new = change.parse()?;
        let attempt = self
            .limiter
            .attempt(&[format!("password:user:{}", user.id)], self.login_limit())
            .await?;
        let signed_in = self
            .accounts
            .change_password(&user.id, &change.current_password, &new)
            .await?;
        attempt.refund().await;
        Ok(signed_in)
    }
}
