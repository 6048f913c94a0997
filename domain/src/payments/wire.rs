//! Stripe's wire format for the objects we exchange: Checkout Sessions, charges and event
//! envelopes. The dev provider speaks it, so its events take the same path as Stripe's,
//! and the test double of Stripe's API answers with it.

use serde_json::{json, Value};

/// What a Checkout Session holds, in our terms.
#[derive(Clone, Debug)]
pub struct SessionFields<'a> {
    /// The session id.
    pub id: &'a str,
    /// The order, in the metadata.
    pub order_id: &'a str,
    /// The amount, in minor units.
    pub amount_total: i64,
    /// ISO code; Stripe spells it in lower case.
    pub currency: &'a str,
    /// The shopper's email.
    pub customer_email: &'a str,
    /// `open`, `complete` or `expired`.
    pub status: &'a str,
    /// `paid` or `unpaid`.
    pub payment_status: &'a str,
    /// The payment id, once paid.
    pub payment_intent: Option<&'a str>,
    /// The hosted page, while open.
    pub url: Option<&'a str>,
    /// Where a paid shopper returns.
    pub success_url: &'a str,
    /// Where a shopper who gives up returns.
    pub cancel_url: &'a str,
    /// Unix time the session was made.
    pub created: i64,
    /// Unix time it expires.
    pub expires_at: i64,
}

/// A `checkout.session` object as Stripe's API returns it (the fields a client needs).
pub fn checkout_session(s: &SessionFields<'_>) -> Value {
    json!({
        "id": s.id,
        "object": "checkout.session",
        "amount_subtotal": s.amount_total,
        "amount_total": s.amount_total,
        "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
        "cancel_url": s.cancel_url,
        "client_reference_id": s.order_id,
        "created": s.created,
        "currency": s.currency.to_ascii_lowercase(),
        "custom_fields": [],
        "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
        "customer_email": s.customer_email,
        "expires_at": s.expires_at,
        "livemode": false,
        "metadata": {"order_id": s.order_id},
        "mode": "payment",
        "payment_intent": s.payment_intent,
        "payment_method_types": ["card"],
        "payment_status": s.payment_status,
        "shipping_options": [],
        "status": s.status,
        "success_url": s.success_url,
        "url": s.url,
    })
}

/// A `charge` object after a refund of `amount_refunded`.
pub fn refunded_charge(
    payment_intent: &str,
    order_id: &str,
    amount: i64,
    amount_refunded: i64,
    currency: &str,
    created: i64,
) -> Value {
    json!({
        "id": format!("ch_{}", payment_intent.trim_start_matches("pi_")),
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "created": created,
        "currency": currency.to_ascii_lowercase(),
        "metadata": {"order_id": order_id},
        "paid": true,
        "payment_intent": payment_intent,
        "refunded": amount_refunded >= amount,
        "status": "succeeded",
    })
}

/// A `payment_intent` object whose last attempt was declined.
pub fn declined_intent(
    payment_intent: &str,
    order_id: &str,
    amount: i64,
    currency: &str,
    created: i64,
) -> Value {
    json!({
        "id": payment_intent,
        "object": "payment_intent",
        "amount": amount,
        "created": created,
        "currency": currency.to_ascii_lowercase(),
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined."
        },
        "metadata": {"order_id": order_id},
        "status": "requires_payment_method",
    })
}

/// An event envelope around `object`.
pub fn event(id: &str, kind: &str, object: Value, created: i64) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "data": {"object": object},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind,
    })
}
