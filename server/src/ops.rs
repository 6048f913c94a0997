//! Liveness and readiness for orchestrators.

use crate::AppState;
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: 200 while the process serves requests. Touches no dependency.
pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: 200 `{"postgres":"ok","redis":"ok"}`, or 503 with `"error"` beside each
/// failing dependency (and the contract's error object).
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
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
    let mut body = json!({ "postgres": word(&pg), "redis": word(&redis) });
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
    body["error"] = json!({ "code": "internal", "message": format!("not ready: {} unreachable", failing.join(" and ")) });
    (StatusCode::SERVICE_UNAVAILABLE, Json(body))
}
