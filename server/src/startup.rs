//! Building the application: connections, state, router and the server loop.

use crate::{
    api, config::Config, dev, media, ops, security, seo, session_store::RedisSessionStore,
};
use anyhow::Context;
use app::{shell, App};
use axum::{
    body::Body,
    extract::{DefaultBodyLimit, FromRef},
    http::{header, HeaderValue, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
    Router,
};
use domain::redis::Redis;
use domain::{
    events::{relay::Relay, Bus},
    mail::Mailer,
    media::MediaStore,
    notifications::Dispatcher,
    outbox::OutboxWorker,
    Services, Settings,
};
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use sha2::{Digest, Sha512};
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::{
    cookie::{Key, SameSite},
    Expiry, SessionManagerLayer,
};
use tracing::Level;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub redis: Redis,
    pub media: MediaStore,
    pub lifecycle: Lifecycle,
}

/// Whether this process is draining for a rollout: shared by the readiness endpoints and
/// the server loop.
#[derive(Clone, Default)]
pub struct Lifecycle(Arc<std::sync::atomic::AtomicBool>);

impl Lifecycle {
    /// True from the stop signal on.
    pub fn is_draining(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    fn start_draining(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// Why the server is stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: an orchestrator is replacing this replica. Report not ready and keep
    /// serving for the drain period while the endpoint is removed, then stop.
    Drain,
    /// SIGINT (Ctrl-C in a terminal): stop accepting now and finish requests in flight.
    Now,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

/// A bound, ready-to-run server. Binding happens in `build`, so tests can ask for port 0.
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    /// `/metrics` on its own listener, when `METRICS_ADDR` asks for one.
    metrics: Option<(TcpListener, Router)>,
    retention: Option<domain::retention::Retention>,
    shutdown_grace: Duration,
    shutdown_drain: Duration,
    lifecycle: Lifecycle,
    db: PgPool,
    caches: domain::coherence::Caches,
    worker: Option<OutboxWorker<Dispatcher>>,
    relay: Option<Relay<Bus>>,
    expirer: Option<(domain::payments::Payments, domain::orders::Orders, Duration)>,
}

/// How this process reaches itself: the bound port on loopback, or on the bound address
/// when it listens on one interface only.
fn self_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// A Postgres pool that connects lazily, so the process starts (and reports not ready)
/// while the database is down.
pub fn pg_pool(config: &Config) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(config.database_acquire_timeout)
        .connect_lazy(&config.database_url)
        .context("DATABASE_URL is not a valid Postgres URL")
}

impl Application {
    /// Connects to Postgres and Redis as configured, then binds.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = pg_pool(&config)?;
        let redis = Redis::new(&config.redis_url, "bazaar:")
            .context("REDIS_URL is not a valid Redis URL")?;
        Self::build_with(config, db, redis).await
    }

    /// Binds `config.addr` and builds the router on the given connections.
    pub async fn build_with(config: Config, db: PgPool, redis: Redis) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding METRICS_ADDR {addr}"))?,
            ),
            None => None,
        };
        let media = MediaStore::from_url(&config.media_store).map_err(anyhow::Error::msg)?;
        media.verify().await.map_err(anyhow::Error::msg)?;
        let mailer = Mailer::new(
            db.clone(),
            config.smtp_url.as_ref().map(|s| s.expose()),
            &config.mail_from,
        )
        .map_err(anyhow::Error::msg)?;
        let settings = Settings {
            catalog_ttl: config.catalog_cache_ttl,
            facet_ttl: config.facet_cache_ttl,
            jwt_secret: config.jwt_secret.expose().to_owned(),
            token_ttl: config.jwt_ttl,
            trusted_proxies: config.trusted_proxies.clone(),
            rate_window: config.rate_limit_window,
            production: config.is_production(),
            pricing: config.pricing.clone(),
            payments: domain::PaymentSettings {
                stripe_secret_key: config
                    .stripe_secret_key
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                stripe_api_base: config.stripe_api_base.clone(),
                stripe_timeout: config.stripe_timeout,
                webhook_secrets: config.webhook_secrets(),
                self_webhook_url: format!(
                    "{}/api/payments/webhook",
                    self_url(listener.local_addr()?)
                ),
                public_url: config.public_url.clone(),
            },
        };
        let services = Services::new(db.clone(), redis.clone(), mailer.clone(), settings)
            .map_err(anyhow::Error::msg)?;
        let expirer = config.outbox_worker.then(|| {
            (
                services.payments.clone(),
                services.orders.clone(),
                config.reconcile_after,
            )
        });
        let worker = config.outbox_worker.then(|| {
            let public_url = config.public_url.trim_end_matches('/').to_owned();
            OutboxWorker::new(
                db.clone(),
                Dispatcher {
                    db: db.clone(),
                    mailer,
                    public_url,
                },
            )
        });
        // Outbox events to the broker, from the replicas that run background work.
        let relay = match (&config.event_bus_url, config.outbox_worker) {
            (Some(url), true) => Some(Relay::new(
                db.clone(),
                Bus::connect(url.expose())
                    .await
                    .map_err(anyhow::Error::msg)?,
            )),
            _ => None,
        };
        let caches = domain::coherence::Caches {
            catalog: services.catalog.clone(),
            flags: services.flags.clone(),
            announcer: services.announcer.clone(),
        };
        let lifecycle = Lifecycle::default();
        let state = AppState {
            leptos_options: leptos_options(&config),
            services,
            redis,
            media,
            lifecycle: lifecycle.clone(),
            config: Arc::new(config),
        };
        let (shutdown_grace, shutdown_drain) =
            (state.config.shutdown_grace, state.config.shutdown_drain);
        let retention = state.config.outbox_worker.then_some(state.config.retention);
        let metrics = metrics_listener.map(|l| (l, metrics_router(state.clone())));
        Ok(Application {
            listener,
            router: router(state),
            port,
            metrics,
            retention,
            shutdown_grace,
            shutdown_drain,
            lifecycle,
            db,
            caches,
            worker,
            relay,
            expirer,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on, when `METRICS_ADDR` moved it off the app's port.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics
            .as_ref()
            .and_then(|(l, _)| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// Serves until SIGTERM (drain, then stop) or SIGINT (stop now).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `signal` completes. From then on `/ready` answers 503. On
    /// [`Stop::Drain`] the server keeps serving for the drain period, answering with
    /// `Connection: close` so that proxies stop reusing connections to it; then it stops
    /// accepting, lets requests in flight and background jobs finish within the grace
    /// period, and returns.
    pub async fn run_with_shutdown(
        self,
        signal: impl Future<Output = Stop> + Send + 'static,
    ) -> std::io::Result<()> {
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|w| tokio::spawn(w.run(rx.clone())));
        let relay = self.relay.map(|r| tokio::spawn(r.run(rx.clone())));
        let expirer = self.expirer.map(|(payments, orders, after)| {
            tokio::spawn(payment_loop(
                self.db.clone(),
                payments,
                orders,
                after,
                rx.clone(),
            ))
        });
        let announcer = tokio::spawn(domain::coherence::announce(
            self.db.clone(),
            self.caches.announcer.clone(),
            rx.clone(),
        ));
        let follower = tokio::spawn(domain::coherence::follow(
            self.db.clone(),
            self.caches,
            rx.clone(),
        ));
        let retention = self
            .retention
            .map(|keep| tokio::spawn(retention_loop(self.db.clone(), keep, rx.clone())));
        // Prometheus keeps scraping through the drain; the listener closes with the rest.
        let metrics = self.metrics.map(|(listener, router)| {
            let mut stop = rx.clone();
            tokio::spawn(async move {
                let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopping| *stopping).await;
                });
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            })
        });
        // Nagle's algorithm with delayed ACKs costs an order of magnitude on small responses.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let (lifecycle, drain) = (self.lifecycle, self.shutdown_drain);
        // When accepting stopped: the grace period covers requests and jobs together.
        let closing = Arc::new(std::sync::OnceLock::new());
        let closed_at = Arc::clone(&closing);
        let serve = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let stop = signal.await;
            lifecycle.start_draining();
            if stop == Stop::Drain && !drain.is_zero() {
                tracing::info!(
                    ?drain,
                    "stop requested: not ready, serving while the endpoint is removed"
                );
                tokio::time::sleep(drain).await;
            }
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            let _ = closed_at.set(tokio::time::Instant::now());
            let _ = tx.send(true);
        });
        let grace = self.shutdown_grace;
        let deadline = async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            result = serve => result,
            () = deadline => {
                tracing::warn!(?grace, "grace period over; closing remaining connections");
                Ok(())
            }
        };
        // The stop signal has been sent: background jobs finish what they hold or hand
        // back their leases, within what is left of the grace period.
        let left = closing
            .get()
            .map_or(grace, |at| grace.saturating_sub(at.elapsed()))
            .max(Duration::from_secs(1));
        let jobs = async {
            for job in worker
                .into_iter()
                .chain(relay)
                .chain(expirer)
                .chain(retention)
                .chain(metrics)
                .chain([follower, announcer])
            {
                let _ = job.await;
            }
        };
        if tokio::time::timeout(left, jobs).await.is_err() {
            tracing::warn!("background jobs did not stop within the grace period");
        }
        result
    }
}

/// Every few seconds: closes the payment sessions of orders past their hold and cancels
/// them; every minute: asks the provider about orders still pending (missed webhooks).
/// Each pass runs on one replica of the cluster at a time.
async fn payment_loop(
    db: PgPool,
    payments: domain::payments::Payments,
    orders: domain::orders::Orders,
    reconcile_after: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use domain::jobs::{run_once, Job};
    let mut passes: u64 = 0;
    while !*stop.borrow() {
        let reconcile = passes.is_multiple_of(12);
        let pass = async {
            match payments.expire_overdue(&orders).await {
                Ok(n) => domain::metrics::METRICS
                    .reservations_expired
                    .inc_by(n as u64),
                Err(e) => tracing::warn!(error = %e, "expiring unpaid orders failed"),
            }
            if let Err(e) = payments.retry_refunds().await {
                tracing::warn!(error = %e, "retrying refunds failed");
            }
            if reconcile {
                if let Err(e) = payments.reconcile(reconcile_after).await {
                    tracing::warn!(error = %e, "payment reconciliation failed");
                }
            }
            Ok(())
        };
        match run_once(&db, Job::PaymentExpiry, pass).await {
            Ok(Some(())) => {}
            Ok(None) => tracing::debug!("another replica is running the payment pass"),
            Err(e) => tracing::warn!(error = %e, "could not take the payment pass lock"),
        }
        passes += 1;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Hourly, on one replica at a time: deletes what is past its retention window.
async fn retention_loop(
    db: PgPool,
    keep: domain::retention::Retention,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use domain::jobs::{try_lock, Job};
    while !*stop.borrow() {
        match try_lock(&db, Job::Retention).await {
            Ok(Some(mut lock)) => {
                if let Err(e) = domain::retention::purge(lock.conn(), &keep).await {
                    tracing::warn!(error = %e, "retention pass failed");
                }
                lock.release().await;
            }
            Ok(None) => tracing::debug!("another replica is running the retention pass"),
            Err(e) => tracing::warn!(error = %e, "could not take the retention lock"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn shutdown_signal() -> Stop {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => Stop::Now,
        () = terminate => Stop::Drain,
    }
}

/// Leptos settings from our config, honouring what cargo-leptos sets during development.
fn leptos_options(config: &Config) -> LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| LeptosOptions::builder().output_name("bazaar").build());
    options.output_name = "bazaar".into();
    options.site_root = config.site_root.to_string_lossy().as_ref().into();
    options.site_addr = config.addr;
    options.env = if config.is_production() {
        leptos::config::Env::PROD
    } else {
        leptos::config::Env::DEV
    };
    // A release build run by hand has no LEPTOS_HASH_FILES, but cargo-leptos left hash.txt
    // beside the binary: use it, so the page names the hashed files that exist.
    if !options.hash_files {
        options.hash_files = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
            .is_some_and(|p| p.exists());
    }
    options
}

fn cache_control(value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(value))
}

/// The whole HTTP surface: operations, the JSON API, static assets and the Leptos app.
/// The session cookie's name. In production it carries the `__Host-` prefix, so browsers
/// accept it only when Secure, for this host alone and for every path: a sibling
/// subdomain cannot plant or shadow a session for the shop.
pub fn session_cookie_name(production: bool) -> &'static str {
    if production {
        "__Host-bazaar_session"
    } else {
        "bazaar_session"
    }
}

/// The metrics listener's router: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    let (metrics, _) = ops::metrics_routes().split_for_parts();
    metrics.with_state(state)
}

pub fn router(state: AppState) -> Router {
    let config = Arc::clone(&state.config);
    let options = state.leptos_options.clone();
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    // Hashed file names never change content, so browsers may keep them for a year.
    let pkg_cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let pkg = Router::new()
        .fallback_service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(cache_control(pkg_cache));

    let services = state.services.clone();
    let context = move || provide_context(services.clone());
    let routes = generate_route_list(App);

    let session_key = Key::from(&Sha512::digest(config.session_secret.expose().as_bytes()));
    let sessions = SessionManagerLayer::new(RedisSessionStore::new(state.redis.clone()))
        .with_name(session_cookie_name(config.is_production()))
        .with_secure(config.is_production())
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(30)))
        .with_signed(session_key);

    let (probes, _) = ops::routes().split_for_parts();
    let pages = Router::new()
        .merge(probes)
        .route("/ready/pod", get(ops::pod_ready))
        .route("/dev/mailbox", get(dev::mailbox))
        .route("/dev/mailbox.json", get(dev::mailbox_json))
        .route("/dev/pay/{session_id}", get(dev::pay_form).post(dev::pay))
        .nest("/api", api::router())
        .nest("/pkg", pkg)
        .route("/media/{*key}", get(media::serve))
        .route("/robots.txt", get(seo::robots))
        .route("/sitemap.xml", get(seo::sitemap))
        .route("/sitemaps/{file}", get(seo::sitemap_file))
        .route(
            "/admin/products/{slug}/image",
            axum::routing::post(media::upload_form)
                .layer(DefaultBodyLimit::max(media::UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/admin/products/{slug}/image/delete",
            axum::routing::post(media::remove_form),
        )
        .route(
            "/admin/products/{slug}/images",
            axum::routing::post(media::add_form)
                .layer(DefaultBodyLimit::max(media::UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/admin/products/{slug}/images/{position}/delete",
            axum::routing::post(media::remove_at_form),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        // Every route so far tags its answer with its template, for the RED metrics.
        .route_layer(axum::middleware::from_fn(ops::tag_route));
    // With METRICS_ADDR, /metrics lives on its own listener only (`metrics_router`), so
    // whatever routes to this port (the public Ingress) cannot read it.
    let pages = if config.metrics_addr.is_none() {
        pages.merge(ops::metrics_routes().split_for_parts().0)
    } else {
        pages
    };
    pages
        .fallback(file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(axum::middleware::from_fn_with_state(security::Origins::new(&config.public_url), security::csrf))
        .layer(axum::middleware::from_fn({
            let production = config.is_production();
            move |req, next| security::headers(production, req, next)
        }))
        .layer(sessions)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request<Body>| {
                            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                            let span = tracing::info_span!("http", method = %req.method(), path = %req.uri().path(),
                                request_id = %id, trace_id = tracing::field::Empty);
                            crate::telemetry::link_trace(&span, req.headers());
                            span
                        })
                        .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn({
                    let limit = config.body_limit_bytes;
                    move |req, next| media::limit_body(limit, req, next)
                }))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.request_timeout))
                .layer(CompressionLayer::new())
                .layer(DefaultBodyLimit::max(config.body_limit_bytes)),
        )
        .layer(axum::middleware::from_fn(api::contract_errors_layer))
        .layer(axum::middleware::from_fn(ops::record_red))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::close_while_draining,
        ))
        .with_state(state)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    types::AppError::internal("handler panicked", detail).into_response()
}
