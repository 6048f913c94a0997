//! `/api/payments/webhook`: the provider's events, verified on the raw body.

use crate::AppState;
use axum::{body::Bytes, extract::State, http::HeaderMap, Json};
use domain::payments::Receipt;
use serde_json::{json, Value};
use types::AppError;

/// `POST /api/payments/webhook`: 200 processed or duplicate · 400 bad or stale signature.
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match state.services.payments.receive(signature, &body).await? {
        Receipt::Processed(outcome) => Ok(Json(json!({"received": true, "outcome": outcome}))),
        Receipt::Duplicate => Ok(Json(json!({"received": true, "duplicate": true}))),
    }
}
