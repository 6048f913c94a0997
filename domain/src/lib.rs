#![warn(missing_docs)]
//! Bazaar's business logic and SQL, one module per service of the original design.
//! Server-only and free of Leptos: the web layer calls in, maps errors, and renders.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod cache;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod coherence;
pub mod events;
pub mod flags;
pub mod jobs;
#[cfg(test)]
mod layout;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod promotions;
pub mod ratelimit;
pub mod redis;
pub mod retention;
pub mod seed;
pub mod trace;

use sqlx::PgPool;
use std::time::Duration;

/// A timestamp as the API and the pages show it.
pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub use accounts::Accounts;
pub use catalog::Catalog;

/// Settings the services need from configuration.
#[derive(Clone)]
pub struct Settings {
    /// Catalog read cache lifetime; zero turns it off.
    pub catalog_ttl: Duration,
    /// Facet count cache lifetime; zero turns it off. Edits clear it at once.
    pub facet_ttl: Duration,
    /// `JWT_SECRET`.
    pub jwt_secret: String,
    /// API token lifetime.
    pub token_ttl: Duration,
    /// Networks whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ratelimit::Cidr>,
    /// The base rate-limit window (a minute in production).
    pub rate_window: Duration,
    /// Whether this is production (no dev mailbox, Secure cookies).
    pub production: bool,
    /// Shipping, tax and the unpaid-order hold.
    pub pricing: orders::Pricing,
    /// Which payment provider, and how webhooks are checked.
    pub payments: PaymentSettings,
}

/// Payment provider settings.
#[derive(Clone)]
pub struct PaymentSettings {
    /// `STRIPE_SECRET_KEY`; without it the dev provider is used.
    pub stripe_secret_key: Option<String>,
    /// `STRIPE_API_BASE`, to point the Stripe client at a test double.
    pub stripe_api_base: Option<String>,
    /// How long one Stripe request may take before it counts as failed (and is retried).
    pub stripe_timeout: Duration,
    /// Every secret a webhook signature may be made with (rotation keeps two).
    pub webhook_secrets: Vec<String>,
    /// This process's own webhook address, where the dev provider delivers.
    pub self_webhook_url: String,
    /// The public address, for the provider's return URLs.
    pub public_url: String,
}

/// The domain services behind one `Arc`: the web layer clones a handle for every request,
/// so a clone must be one reference count, not one per service. Fields read through it.
#[derive(Clone)]
pub struct Services(std::sync::Arc<ServiceSet>);

impl std::ops::Deref for Services {
    type Target = ServiceSet;
    fn deref(&self) -> &ServiceSet {
        &self.0
    }
}

/// Every domain service, sharing one pool and one Redis client.
pub struct ServiceSet {
    /// The Postgres pool every service shares.
    pub db: PgPool,
    /// The one Redis client.
    pub redis: redis::Redis,
    /// Products and categories.
    pub catalog: Catalog,
    /// Users, credentials and tokens.
    pub accounts: Accounts,
    /// Signup, login, tokens and password changes under their throttles.
    pub access: accounts::Access,
    /// Checkout across carts, orders and payments.
    pub checkout: checkout::Checkout,
    /// Login, signup and reset throttling.
    pub limiter: ratelimit::RateLimiter,
    /// Outgoing email.
    pub mailer: mail::Mailer,
    /// Carts in Redis.
    pub carts: cart::Carts,
    /// Orders.
    pub orders: orders::Orders,
    /// Payments and the provider behind them.
    pub payments: payments::Payments,
    /// Discount codes, as the merchant manages them.
    pub promotions: promotions::Promotions,
    /// The merchant's audit log and dashboard.
    pub admin: admin::Admin,
    /// Feature flags.
    pub flags: flags::Flags,
    /// After-commit announcements of the checkouts' stock and outbox writes.
    pub announcer: coherence::Announcer,
    /// Whether this is production.
    pub production: bool,
    /// The shop's public address without a trailing slash, for absolute links.
    pub public_url: String,
}

impl Services {
    /// Builds every service on one pool and one Redis client.
    pub fn new(
        db: PgPool,
        redis: redis::Redis,
        mailer: mail::Mailer,
        settings: Settings,
    ) -> Result<Self, String> {
        let p = &settings.payments;
        let provider = match &p.stripe_secret_key {
            Some(key) => {
                payments::Provider::Stripe(Box::new(payments::stripe::StripeProvider::new(
                    key,
                    p.stripe_api_base.as_deref(),
                    p.stripe_timeout,
                )?))
            }
            None => payments::Provider::Dev(payments::dev::DevProvider::new(
                db.clone(),
                p.self_webhook_url.clone(),
                p.webhook_secrets.first().cloned().unwrap_or_default(),
            )),
        };
        let payments = payments::Payments::new(
            db.clone(),
            provider,
            p.webhook_secrets.clone(),
            &p.public_url,
            settings.pricing.hold,
        );
        let catalog = Catalog::new(db.clone(), settings.catalog_ttl, settings.facet_ttl);
        let announcer = coherence::Announcer::default();
        let orders = orders::Orders::new(db.clone(), settings.pricing.clone(), announcer.clone());
        let admin = admin::Admin::new(db.clone(), orders.clone());
        let flags = flags::Flags::new(db.clone(), settings.catalog_ttl);
        let accounts = Accounts::new(
            db.clone(),
            accounts::TokenKeys::new(&settings.jwt_secret, settings.token_ttl),
        );
        let limiter = ratelimit::RateLimiter::new(
            redis.clone(),
            settings.trusted_proxies,
            settings.rate_window,
        );
        let carts = cart::Carts::new(redis.clone(), db.clone());
        Ok(Services(std::sync::Arc::new(ServiceSet {
            admin,
            checkout: checkout::Checkout::new(
                carts.clone(),
                orders.clone(),
                payments.clone(),
                flags.clone(),
                accounts.clone(),
            ),
            access: accounts::Access::new(accounts.clone(), limiter.clone()),
            flags,
            announcer,
            catalog,
            orders,
            payments,
            promotions: promotions::Promotions::new(db.clone()),
            accounts,
            limiter,
            mailer,
            carts,
            production: settings.production,
            public_url: p.public_url.trim_end_matches('/').to_owned(),
            redis,
            db,
        })))
    }
}
