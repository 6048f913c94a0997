//! `/api/payments/webhook`: the provider's events, verified on the raw body.

use super::Failures;
use crate::AppState;
use axum::{body::Bytes, extract::State, http::HeaderMap, Json};
use domain::payments::Receipt;
use types::error::ErrorBody;
use types::AppError;

/// The answer to the provider: received, and what came of it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WebhookReceipt {
    /// Always true: the event is recorded.
    pub received: bool,
    /// What the event did (`paid`, `ignored: …`, `deferred: …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Set when this event was seen before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
}

/// `POST /api/payments/webhook`: 200 processed or duplicate · 400 bad or stale signature.
#[utoipa::path(
    post,
    path = "/payments/webhook",
    tag = "payments",
    operation_id = "paymentWebhook",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix time>,v1=<hex HMAC-SHA256 of t.body>`")),
    request_body(content = String, description = "The provider's event, signed in `Stripe-Signature` over the raw body", content_type = "application/json"),
    responses(
        (status = 200, description = "Processed, or a duplicate acknowledged", body = WebhookReceipt),
        (status = 400, description = "A missing, bad or stale signature, or a body that is not an event", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        Failures,
    )
)]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookReceipt>, AppError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match state.services.payments.receive(signature, &body).await? {
        Receipt::Processed(outcome) => Ok(Json(WebhookReceipt {
            received: true,
            outcome: Some(outcome),
            duplicate: None,
        })),
        Receipt::Duplicate => Ok(Json(WebhookReceipt {
            received: true,
            outcome: None,
            duplicate: Some(true),
        })),
    }
}
