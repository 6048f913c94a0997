//! Liveness and readiness for orchestrators.

use crate::AppState;
use axum::{
    body::Body,
    extract::{MatchedPath, State},
    http::{header, Request, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use domain::metrics::METRICS;
use serde_json::json;
use std::time::Duration;
use types::error::ErrorDetail;
use utoipa_axum::{router::OpenApiRouter, routes};

// Under a second, so a probe or a shopper learns of an outage within one.
const CHECK_TIMEOUT: Duration = Duration::from_millis(800);

/// The probes of the contract, declared with their documents.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// `/metrics`, declared with its document; it is mounted on the app's port or on
/// `METRICS_ADDR`'s, never both.
pub fn metrics_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// `{"status": "ok"}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Liveness {
    /// Always `ok`: an answer at all is the signal.
    pub status: &'static str,
}

/// Whether each dependency answered, and why not when one did not.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ok` or `error`.
    pub postgres: &'static str,
    /// `ok` or `error`.
    pub redis: &'static str,
    /// Beside a failing dependency, or while draining.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// `GET /health`: 200 while the process serves requests. Touches no dependency.
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    operation_id = "health",
    responses((status = 200, description = "The process is alive (liveness)", body = Liveness))
)]
pub async fn health() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// `GET /ready/pod`: the Kubernetes readiness probe. 200 while this replica takes
/// traffic, 503 from the stop signal on. Shared dependencies are left out on purpose:
/// a Redis or Postgres outage fails every replica alike, and taking them all out of the
/// Service would turn a degraded shop (browsing works without Redis) into a dead one.
pub async fn pod_ready(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_draining() {
        return draining().into_response();
    }
    Json(json!({ "status": "ok" })).into_response()
}

fn draining_error() -> ErrorDetail {
    ErrorDetail {
        code: "internal".to_owned(),
        message: "not ready: shutting down".to_owned(),
        fields: None,
    }
}

fn draining() -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "draining", "error": draining_error() })),
    )
}

/// While draining, every answer asks for its connection to be closed, so a proxy's
/// keep-alive pool lets go of this replica between requests rather than mid-request.
pub async fn close_while_draining(
    State(state): State<AppState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if state.lifecycle.is_draining() {
        res.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    res
}

/// `GET /ready`: 200 `{"postgres":"ok","redis":"ok"}`, or 503 with `"error"` beside each
/// failing dependency (and the contract's error object). 503 as well while draining.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "ops",
    operation_id = "ready",
    responses(
        (status = 200, description = "Postgres and Redis both answer (readiness)", body = Readiness),
        (status = 503, description = "A dependency does not answer, or the process is draining", body = Readiness),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let pg = async {
        tokio::time::timeout(
            CHECK_TIMEOUT,
            sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&state.services.db),
        )
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()))
    };
    let redis = async {
        tokio::time::timeout(CHECK_TIMEOUT, state.redis.ping())
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()))
    };
    let (pg, redis) = tokio::join!(pg, redis);
    let word = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "error" };
    let mut body = Readiness {
        postgres: word(&pg),
        redis: word(&redis),
        error: None,
    };
    if state.lifecycle.is_draining() {
        body.error = Some(draining_error());
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    if pg.is_ok() && redis.is_ok() {
        return (StatusCode::OK, Json(body));
    }
    let failing: Vec<_> = [("postgres", &pg), ("redis", &redis)]
        .into_iter()
        .filter_map(|(name, r)| {
            r.as_ref().err().map(|e| {
                tracing::warn!(dependency = name, error = %e, "readiness check failed");
                name
            })
        })
        .collect();
    body.error = Some(ErrorDetail {
        code: "internal".to_owned(),
        message: format!("not ready: {} unreachable", failing.join(" and ")),
        fields: None,
    });
    (StatusCode::SERVICE_UNAVAILABLE, Json(body))
}

/// The route template an answer came from, e.g. `/products/{slug}` (an `Arc` inside).
#[derive(Clone)]
struct RouteTemplate(MatchedPath);

/// Tags a routed answer with its template (`route_layer`: runs only for matched routes).
pub async fn tag_route(req: Request<Body>, next: Next) -> Response {
    let template = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(t) = template {
        res.extensions_mut().insert(RouteTemplate(t));
    }
    res
}

/// Requests, errors and duration by method, route template and status: the RED metrics.
/// Unrouted paths share one label, so a scan of random URLs cannot explode the series.
pub async fn record_red(req: Request<Body>, next: Next) -> Response {
    // Method and status label without allocating: both are static strings for real traffic.
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteTemplate>()
        .map(|t| t.0.as_str())
        .unwrap_or("unmatched");
    METRICS
        .http_requests
        .with_label_values(&[method.as_str(), route, res.status().as_str()])
        .inc();
    METRICS
        .http_duration
        .with_label_values(&[method.as_str(), route])
        .observe(started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`: Prometheus text exposition, with the pool, Redis and outbox read now.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition (on `METRICS_ADDR`'s port when it is set)", content_type = "text/plain; version=0.0.4", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = &state.services.db;
    let (size, idle) = (i64::from(pool.size()), pool.num_idle() as i64);
    METRICS
        .db_connections
        .with_label_values(&["idle"])
        .set(idle);
    METRICS
        .db_connections
        .with_label_values(&["in_use"])
        .set(size - idle);
    METRICS
        .db_max_connections
        .set(i64::from(pool.options().get_max_connections()));
    let redis = tokio::time::timeout(CHECK_TIMEOUT, state.redis.ping()).await;
    METRICS.redis_up.set(i64::from(matches!(redis, Ok(Ok(())))));
    domain::metrics::refresh_outbox(pool).await;
    if state.config.event_bus_url.is_some() {
        domain::events::relay::refresh_metrics(pool).await;
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        domain::metrics::render(),
    )
}
