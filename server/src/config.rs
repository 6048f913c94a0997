//! Typed configuration from the environment (see the README's config reference).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which kind of deployment this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret's value; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything the server reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub env: AppEnv,
    pub database_url: String,
    pub database_max_connections: u32,
    pub redis_url: String,
    pub jwt_secret: Secret,
    pub session_secret: Secret,
    pub stripe_secret_key: Option<Secret>,
    pub stripe_webhook_secret: Option<Secret>,
    pub stripe_api_base: Option<String>,
    pub public_url: String,
    pub addr: SocketAddr,
    /// Where `/metrics` is served instead of `addr`, on a port only Prometheus reaches.
    pub metrics_addr: Option<SocketAddr>,
    pub site_root: PathBuf,
    pub media_store: String,
    pub otel_endpoint: Option<String>,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    pub catalog_cache_ttl: Duration,
    /// `FACET_CACHE_TTL_SECS`: how long facet counts are kept (0 to 3600, default 60).
    pub facet_cache_ttl: Duration,
    pub shutdown_grace: Duration,
    /// After SIGTERM, how long the server keeps serving while reporting not ready, so the
    /// ingress removes this replica before it stops accepting.
    pub shutdown_drain: Duration,
    /// How long a request waits for a Postgres connection before it is answered 503.
    pub database_acquire_timeout: Duration,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub trusted_proxies: Vec<domain::ratelimit::Cidr>,
    pub jwt_ttl: Duration,
    pub rate_limit_window: Duration,
    pub outbox_worker: bool,
    pub pricing: domain::orders::Pricing,
    /// How old a pending order must be before reconciliation asks the provider about it.
    pub reconcile_after: Duration,
    /// Per-attempt timeout of Stripe API calls.
    pub stripe_timeout: Duration,
    /// How long delivered outbox events, webhook receipts and sent emails are kept.
    pub retention: domain::retention::Retention,
    /// The broker outbox events are relayed to (`nats://…` or `sqs://<queue>.fifo`); unset,
    /// nothing leaves the binary. A secret: a NATS URL may carry a password.
    pub event_bus_url: Option<Secret>,
}

/// Why the configuration was refused; each message names the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

const DEV_JWT_SECRET: &str = "dev-only-jwt-secret-change-me-in-production-000000";
const DEV_SESSION_SECRET: &str = "dev-only-session-secret-change-me-in-production-00";
const MIN_SECRET_LEN: usize = 32;
/// Signs the dev provider's events in development; refused in production.
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dev_only_bazaar_webhook_secret";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Reads configuration through `get`, so tests can supply their own environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        let env = match get("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                errors.push(format!(
                    "APP_ENV must be `development` or `production`, not `{other}`"
                ));
                AppEnv::Development
            }
        };
        let prod = env == AppEnv::Production;

        let mut required = |key: &str, dev_default: &str| -> String {
            match get(key) {
                Some(v) => v,
                None if prod => {
                    errors.push(format!("{key} is required in production"));
                    String::new()
                }
                None => dev_default.to_owned(),
            }
        };
        let database_url = required("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bazaar");
        let redis_url = required("REDIS_URL", "redis://127.0.0.1:6379");
        let public_url = required("PUBLIC_URL", "http://127.0.0.1:3000");

        let mut secret = |key: &str, dev_default: &str| -> Secret {
            let value = get(key).unwrap_or_else(|| dev_default.to_owned());
            if prod && (value == dev_default || value.starts_with("dev-only")) {
                errors.push(format!("{key} must be set to a real secret in production"));
            } else if value.len() < MIN_SECRET_LEN {
                errors.push(format!(
                    "{key} must be at least {MIN_SECRET_LEN} characters"
                ));
            }
            Secret(value)
        };
        let jwt_secret = secret("JWT_SECRET", DEV_JWT_SECRET);
        let session_secret = secret("SESSION_SECRET", DEV_SESSION_SECRET);
        // One leaked value must not open both doors: API tokens and session cookies.
        if prod && jwt_secret == session_secret {
            errors.push("JWT_SECRET and SESSION_SECRET must differ in production".into());
        }
        // The Stripe address is a test seam; in production it would send card sessions and
        // the secret key to whoever the variable names.
        if prod && get("STRIPE_API_BASE").is_some() {
            errors.push("STRIPE_API_BASE is refused in production (tests only)".into());
        }

        let stripe_secret_key = get("STRIPE_SECRET_KEY").map(Secret);
        let stripe_webhook_secret = get("STRIPE_WEBHOOK_SECRET").map(Secret);
        if prod && stripe_secret_key.is_none() {
            errors.push(
                "STRIPE_SECRET_KEY is required in production (the dev payment provider is refused)"
                    .into(),
            );
        }
        if prod && stripe_webhook_secret.is_none() {
            errors.push("STRIPE_WEBHOOK_SECRET is required in production".into());
        }
        if prod
            && stripe_webhook_secret
                .as_ref()
                .is_some_and(|s| s.expose().contains(DEV_WEBHOOK_SECRET))
        {
            errors.push("STRIPE_WEBHOOK_SECRET must be a real secret in production".into());
        }
        if prod && !public_url.starts_with("https://") && !public_url.is_empty() {
            errors.push(
                "PUBLIC_URL must be https:// in production (session cookies are Secure)".into(),
            );
        }

        let addr_raw = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let addr = addr_raw.parse().unwrap_or_else(|_| {
            errors.push(format!(
                "LEPTOS_SITE_ADDR `{addr_raw}` is not an address like 0.0.0.0:3000"
            ));
            SocketAddr::from(([127, 0, 0, 1], 3000))
        });
        let metrics_addr = get("METRICS_ADDR").and_then(|raw| match raw.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                errors.push(format!(
                    "METRICS_ADDR `{raw}` is not an address like 0.0.0.0:9091"
                ));
                None
            }
        });
        if metrics_addr.is_some_and(|m| m.port() != 0 && m.port() == addr.port()) {
            errors.push("METRICS_ADDR must use another port than LEPTOS_SITE_ADDR".into());
        }
        let log_format = match get("LOG_FORMAT").as_deref() {
            None if prod => LogFormat::Json,
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                errors.push(format!(
                    "LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                ));
                LogFormat::Pretty
            }
        };

        let mut number = |key: &str, default: u64, min: u64, max: u64| -> u64 {
            match get(key) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        errors.push(format!("{key} must be a whole number from {min} to {max}"));
                        default
                    }
                },
            }
        };
        let database_max_connections = number("DATABASE_MAX_CONNECTIONS", 16, 1, 1000) as u32;
        let request_timeout = Duration::from_secs(number("REQUEST_TIMEOUT_SECS", 15, 1, 600));
        let body_limit_bytes =
            number("BODY_LIMIT_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024) as usize;
        let catalog_cache_ttl = Duration::from_secs(number("CATALOG_CACHE_TTL_SECS", 5, 0, 3600));
        let facet_cache_ttl = Duration::from_secs(number("FACET_CACHE_TTL_SECS", 60, 0, 3600));
        let shutdown_grace = Duration::from_secs(number("SHUTDOWN_GRACE_SECS", 20, 0, 600));
        let shutdown_drain = Duration::from_secs(number("SHUTDOWN_DRAIN_SECS", 5, 0, 120));
        let database_acquire_timeout =
            Duration::from_millis(number("DATABASE_ACQUIRE_TIMEOUT_MS", 750, 50, 60_000));

        let jwt_ttl = Duration::from_secs(number("JWT_TTL_SECS", 3600, 60, 86_400));
        let pricing = domain::orders::Pricing {
            standard_shipping: number("SHIPPING_STANDARD_CENTS", 500, 0, 1_000_000) as i64,
            express_shipping: number("SHIPPING_EXPRESS_CENTS", 1500, 0, 1_000_000) as i64,
            tax_bps: number("TAX_RATE_BPS", 0, 0, 10_000) as i64,
            hold: Duration::from_secs(number("ORDER_HOLD_SECS", 1800, 1, 86_400)),
        };
        let reconcile_after =
            Duration::from_secs(number("PAYMENT_RECONCILE_AFTER_SECS", 300, 0, 86_400));
        let stripe_timeout =
            Duration::from_millis(number("STRIPE_TIMEOUT_MS", 10_000, 100, 120_000));
        let rate_limit_window = Duration::from_secs(number("RATE_LIMIT_WINDOW_SECS", 60, 1, 3600));
        let day = 86_400;
        // Webhook receipts dedupe Stripe's retries, which stop after three days; emails
        // dedupe redelivered events, so they are kept at least as long as the events.
        let retention = domain::retention::Retention {
            outbox: Duration::from_secs(day * number("OUTBOX_RETENTION_DAYS", 7, 1, 3650)),
            webhook_events: Duration::from_secs(
                day * number("WEBHOOK_RETENTION_DAYS", 30, 4, 3650),
            ),
            emails: Duration::from_secs(day * number("EMAIL_RETENTION_DAYS", 30, 1, 3650)),
            relayed_first: false,
        };
        if retention.emails < retention.outbox {
            errors.push("EMAIL_RETENTION_DAYS must be at least OUTBOX_RETENTION_DAYS".into());
        }
        let outbox_worker = match get("OUTBOX_WORKER").as_deref() {
            None | Some("on") | Some("true") | Some("1") => true,
            Some("off") | Some("false") | Some("0") => false,
            Some(other) => {
                errors.push(format!(
                    "OUTBOX_WORKER must be `on` or `off`, not `{other}`"
                ));
                true
            }
        };
        let smtp_url = get("SMTP_URL").map(Secret);
        if prod && smtp_url.is_none() {
            errors.push("SMTP_URL is required in production (the dev mailbox is refused)".into());
        }
        let trusted_proxies = get("TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .filter_map(|s| {
                        domain::ratelimit::Cidr::parse(s)
                            .map_err(|e| errors.push(format!("TRUSTED_PROXIES: {e}")))
                            .ok()
                    })
                    .collect()
            })
            .unwrap_or_default();

        let event_bus_url = get("EVENT_BUS_URL").map(Secret);
        if let Some(Err(e)) = event_bus_url
            .as_ref()
            .map(|url| domain::events::Target::parse(url.expose()))
        {
            errors.push(e);
        }
        // Delivered events are kept until the broker has them too.
        let retention = domain::retention::Retention {
            relayed_first: event_bus_url.is_some(),
            ..retention
        };

        let media_store = get("MEDIA_STORE").unwrap_or_else(|| "file://./data/media".to_owned());
        if let Err(e) = domain::media::MediaStore::check_url(&media_store) {
            errors.push(e);
        }

        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok(Config {
            env,
            database_url,
            database_max_connections,
            redis_url,
            jwt_secret,
            session_secret,
            stripe_secret_key,
            stripe_webhook_secret,
            stripe_api_base: get("STRIPE_API_BASE"),
            public_url,
            addr,
            metrics_addr,
            site_root: PathBuf::from(
                get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
            ),
            media_store,
            otel_endpoint: get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            log_format,
            request_timeout,
            body_limit_bytes,
            catalog_cache_ttl,
            facet_cache_ttl,
            shutdown_grace,
            shutdown_drain,
            database_acquire_timeout,
            smtp_url,
            mail_from: get("MAIL_FROM")
                .unwrap_or_else(|| "Bazaar <no-reply@bazaar.local>".to_owned()),
            trusted_proxies,
            jwt_ttl,
            rate_limit_window,
            outbox_worker,
            pricing,
            reconcile_after,
            stripe_timeout,
            retention,
            event_bus_url,
        })
    }

    /// Every webhook secret in force: `STRIPE_WEBHOOK_SECRET` may list several, comma
    /// separated, while one is being rotated. Development falls back to the dev secret.
    pub fn webhook_secrets(&self) -> Vec<String> {
        match &self.stripe_webhook_secret {
            Some(list) => list
                .expose()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => vec![DEV_WEBHOOK_SECRET.to_owned()],
        }
    }

    /// Whether this is a production deployment.
    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn production(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut env = vec![
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://db/bazaar"),
            ("REDIS_URL", "rediss://cache:6379"),
            ("PUBLIC_URL", "https://shop.example.com"),
            (
                "JWT_SECRET",
                "a-very-long-random-jwt-secret-value-1234567890",
            ),
            (
                "SESSION_SECRET",
                "a-very-long-random-session-secret-value-123456",
            ),
            ("STRIPE_SECRET_KEY", "sk_live_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_live_x"),
            ("SMTP_URL", "smtps://u:p@smtp.example.com"),
        ];
        env.extend_from_slice(extra);
        config(&env)
    }

    #[test]
    fn production_refuses_one_secret_for_tokens_and_sessions() {
        assert!(production(&[]).is_ok(), "the complete environment starts");
        let same = "the-same-long-random-secret-for-both-0123456789";
        let err = production(&[("JWT_SECRET", same), ("SESSION_SECRET", same)])
            .expect_err("one secret for both");
        assert!(err.to_string().contains("must differ"), "{err}");
    }

    #[test]
    fn production_refuses_a_stripe_address_override() {
        let err = production(&[("STRIPE_API_BASE", "http://127.0.0.1:9")])
            .expect_err("a redirected Stripe");
        assert!(err.to_string().contains("STRIPE_API_BASE"), "{err}");
        assert!(
            config(&[("STRIPE_API_BASE", "http://127.0.0.1:9")]).is_ok(),
            "development keeps the test seam"
        );
    }

    #[test]
    fn metrics_can_move_to_their_own_port_but_not_onto_the_apps() {
        let c = config(&[("METRICS_ADDR", "0.0.0.0:9091")]).expect("valid");
        assert_eq!(c.metrics_addr.map(|a| a.port()), Some(9091));
        assert!(config(&[]).expect("defaults").metrics_addr.is_none());
        let err = config(&[
            ("LEPTOS_SITE_ADDR", "0.0.0.0:8080"),
            ("METRICS_ADDR", "0.0.0.0:8080"),
        ])
        .expect_err("one port for both");
        assert!(err.to_string().contains("METRICS_ADDR"), "{err}");
        assert!(
            config(&[("METRICS_ADDR", "9091")]).is_err(),
            "a bare port is refused"
        );
    }

    #[test]
    fn retention_windows_default_to_a_week_and_a_month_and_keep_emails_past_events() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.retention.outbox, Duration::from_secs(7 * 86_400));
        assert_eq!(c.retention.webhook_events, Duration::from_secs(30 * 86_400));
        let err = config(&[
            ("OUTBOX_RETENTION_DAYS", "60"),
            ("EMAIL_RETENTION_DAYS", "30"),
        ])
        .expect_err("emails shorter than events");
        assert!(err.to_string().contains("EMAIL_RETENTION_DAYS"), "{err}");
        assert!(
            config(&[("WEBHOOK_RETENTION_DAYS", "1")]).is_err(),
            "receipts must outlive Stripe's three days of retries"
        );
    }

    #[test]
    fn development_starts_with_no_environment_at_all() {
        let c = config(&[]).expect("dev defaults");
        assert_eq!(c.env, AppEnv::Development);
        assert_eq!(c.addr.port(), 3000);
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    #[test]
    fn production_refuses_dev_defaults_and_names_each_variable() {
        let err = config(&[("APP_ENV", "production")])
            .expect_err("must refuse")
            .to_string();
        for key in [
            "DATABASE_URL",
            "REDIS_URL",
            "JWT_SECRET",
            "SESSION_SECRET",
            "STRIPE_SECRET_KEY",
            "PUBLIC_URL",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn production_refuses_the_dev_secret_even_when_set_explicitly() {
        let err = config(&[("APP_ENV", "production"), ("JWT_SECRET", DEV_JWT_SECRET)])
            .expect_err("refuse");
        assert!(err
            .to_string()
            .contains("JWT_SECRET must be set to a real secret"));
    }

    #[test]
    fn production_refuses_plain_http_public_urls() {
        let err = config(&[
            ("APP_ENV", "production"),
            ("PUBLIC_URL", "http://shop.example.com"),
        ])
        .expect_err("refuse");
        assert!(err.to_string().contains("PUBLIC_URL must be https://"));
    }

    #[test]
    fn production_starts_with_real_values() {
        let c = config(&[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://db/bazaar"),
            ("REDIS_URL", "redis://cache"),
            ("PUBLIC_URL", "https://shop.example.com"),
            (
                "JWT_SECRET",
                "a-very-long-random-jwt-secret-value-1234567890",
            ),
            (
                "SESSION_SECRET",
                "a-very-long-random-session-secret-value-123456",
            ),
            ("STRIPE_SECRET_KEY", "sk_live_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ("SMTP_URL", "smtps://user:pass@smtp.example.com"),
        ])
        .expect("valid production config");
        assert!(c.is_production());
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(
            !format!("{c:?}").contains("a-very-long-random"),
            "secrets must not leak into Debug"
        );
    }

    #[test]
    fn bad_values_are_reported_not_defaulted() {
        let err = config(&[
            ("LOG_FORMAT", "xml"),
            ("REQUEST_TIMEOUT_SECS", "0"),
            ("LEPTOS_SITE_ADDR", "nope"),
        ])
        .expect_err("refuse")
        .to_string();
        assert!(
            err.contains("LOG_FORMAT")
                && err.contains("REQUEST_TIMEOUT_SECS")
                && err.contains("LEPTOS_SITE_ADDR")
        );
    }

    #[test]
    fn trusted_proxies_parse_as_networks() {
        let c = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")]).expect("valid");
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(config(&[("TRUSTED_PROXIES", "10.0.0.0/99")]).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(config(&[("SESSION_SECRET", "short")]).is_err());
    }
}
