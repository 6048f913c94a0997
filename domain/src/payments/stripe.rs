//! The Stripe provider: Checkout Sessions and refunds through async-stripe. Requests that
//! Stripe may safely see twice carry an idempotency key derived from the order, so our
//! retries after a 5xx or a timeout never charge twice.

use super::{CheckoutRequest, PaymentError, Session, SessionState, SessionStatus};
use std::{collections::HashMap, str::FromStr, time::Duration};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ExpireCheckoutSession, ProductData,
    RetrieveCheckoutSession,
};
use stripe_core::refund::CreateRefund;
use stripe_shared::{
    CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
};

/// How many times a request is tried when Stripe is unreachable or answers 5xx/429.
const ATTEMPTS: u32 = 3;

/// The Stripe provider.
#[derive(Clone)]
pub struct StripeProvider {
    client: Client,
}

impl StripeProvider {
    /// A client for `secret_key`, talking to `api_base` when set (tests), else Stripe.
    pub fn new(
        secret_key: &str,
        api_base: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut builder = ClientBuilder::new(secret_key).timeout(timeout);
        if let Some(base) = api_base {
            // The client appends `v1/...` to the base as given.
            builder = builder.url(format!("{}/", base.trim_end_matches('/')));
        }
        let client = builder.build().map_err(|e| format!("Stripe client: {e}"))?;
        Ok(StripeProvider { client })
    }

    pub(super) async fn create(&self, req: &CheckoutRequest) -> Result<Session, PaymentError> {
        let currency = stripe_types::Currency::from_str(&req.currency.to_ascii_lowercase())
            .map_err(|_| {
                PaymentError::Rejected(format!("currency {} is not supported", req.currency))
            })?;
        let mut items: Vec<CreateCheckoutSessionLineItems> = req
            .lines
            .iter()
            .map(|l| item(currency.clone(), &l.name, l.unit_amount, l.quantity))
            .collect();
        // Shipping and tax are our own figures: passed as lines so Stripe charges our total.
        if req.shipping > 0 {
            items.push(item(currency.clone(), "Shipping", req.shipping, 1));
        }
        if req.tax > 0 {
            items.push(item(currency.clone(), "Tax", req.tax, 1));
        }
        let metadata = HashMap::from([("order_id".to_owned(), req.order_id.to_string())]);
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        intent.metadata = Some(metadata.clone());
        let request = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(items)
            .customer_email(req.email.clone())
            .client_reference_id(req.order_id.to_string())
            .metadata(metadata)
            .payment_intent_data(intent)
            .success_url(req.success_url.clone())
            .cancel_url(req.cancel_url.clone())
            .expires_at(stripe_expiry(
                req.expires_at,
                time::OffsetDateTime::now_utc().unix_timestamp(),
            ));
        let key = idempotency_key(&req.idempotency_key)?;
        let session: CheckoutSession = self
            .retrying(|| {
                request
                    .customize()
                    .request_strategy(RequestStrategy::Idempotent(key.clone()))
                    .send(&self.client)
            })
            .await?;
        let url = session.url.clone().ok_or_else(|| {
            PaymentError::Rejected("Stripe returned a session without a URL".to_owned())
        })?;
        Ok(Session {
            id: session.id.to_string(),
            url,
        })
    }

    pub(super) async fn retrieve(&self, id: &str) -> Result<SessionState, PaymentError> {
        let request = RetrieveCheckoutSession::new(id);
        let session = self.retrying(|| request.send(&self.client)).await?;
        Ok(state(&session))
    }

    pub(super) async fn expire(&self, id: &str) -> Result<SessionState, PaymentError> {
        let request = ExpireCheckoutSession::new(id);
        match self.retrying(|| request.send(&self.client)).await {
            Ok(session) => Ok(state(&session)),
            // Stripe refuses to expire a session that is already complete or expired:
            // read what it is instead.
            Err(PaymentError::Rejected(_)) => self.retrieve(id).await,
            Err(e) => Err(e),
        }
    }

    pub(super) async fn refund(
        &self,
        payment_intent: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, PaymentError> {
        let request = CreateRefund::new()
            .payment_intent(payment_intent)
            .amount(amount);
        let key = idempotency_key(key)?;
        let refund = self
            .retrying(|| {
                request
                    .customize()
                    .request_strategy(RequestStrategy::Idempotent(key.clone()))
                    .send(&self.client)
            })
            .await?;
        Ok(refund.id.to_string())
    }

    /// Runs `call` until it succeeds, fails for good, or has been tried `ATTEMPTS` times.
    async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, PaymentError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, StripeError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await.map_err(classify) {
                Err(PaymentError::Unavailable(why)) if attempt < ATTEMPTS => {
                    tracing::warn!(attempt, %why, "Stripe request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

fn item(
    currency: stripe_types::Currency,
    name: &str,
    unit_amount: i64,
    quantity: i64,
) -> CreateCheckoutSessionLineItems {
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
    price.product_data = Some(ProductData::new(name));
    price.unit_amount = Some(unit_amount);
    let mut line = CreateCheckoutSessionLineItems::new();
    line.price_data = Some(price);
    line.quantity = Some(u64::try_from(quantity).unwrap_or(1));
    line
}

/// Stripe takes expiries from 30 minutes to 24 hours ahead; a shorter hold is enforced by
/// our own expiry job, which closes the session when the hold ends.
fn stripe_expiry(wanted: i64, now: i64) -> i64 {
    wanted.clamp(now + 31 * 60, now + 24 * 3600 - 60)
}

fn idempotency_key(key: &str) -> Result<IdempotencyKey, PaymentError> {
    IdempotencyKey::new(key).map_err(|e| PaymentError::Rejected(format!("idempotency key: {e}")))
}

/// Card problems are the shopper's to fix; 5xx, 429, timeouts and network errors are
/// worth retrying; any other refusal is a request we should not repeat.
fn classify(err: StripeError) -> PaymentError {
    match err {
        StripeError::Stripe(api, status) => {
            let message = api
                .message
                .clone()
                .unwrap_or_else(|| format!("Stripe answered {status}"));
            let card = matches!(api.type_, stripe::ApiErrorsType::CardError);
            if status == 402 || card {
                PaymentError::Declined(message)
            } else if status >= 500 || status == 429 {
                PaymentError::Unavailable(message)
            } else {
                PaymentError::Rejected(message)
            }
        }
        StripeError::Timeout => {
            PaymentError::Unavailable("Stripe did not answer in time".to_owned())
        }
        StripeError::ClientError(e) => PaymentError::Unavailable(e),
        StripeError::JSONDeserialize(e) => {
            PaymentError::Rejected(format!("unexpected answer from Stripe: {e}"))
        }
        StripeError::ConfigError(e) => PaymentError::Rejected(e),
    }
}

fn state(s: &CheckoutSession) -> SessionState {
    SessionState {
        id: s.id.to_string(),
        status: match s.status {
            Some(CheckoutSessionStatus::Complete) => SessionStatus::Complete,
            Some(CheckoutSessionStatus::Expired) => SessionStatus::Expired,
            _ => SessionStatus::Open,
        },
        paid: matches!(s.payment_status, CheckoutSessionPaymentStatus::Paid),
        amount_total: s.amount_total,
        currency: s
            .currency
            .as_ref()
            .map(|c| c.to_string().to_ascii_uppercase()),
        payment_intent: s.payment_intent.as_ref().map(|p| p.id().to_string()),
        order_id: s
            .metadata
            .as_ref()
            .and_then(|m| m.get("order_id").cloned())
            .or_else(|| s.client_reference_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::stripe_expiry;

    #[test]
    fn session_expiry_stays_inside_the_window_stripe_accepts() {
        let now = 1_700_000_000;
        assert_eq!(stripe_expiry(now + 60, now), now + 31 * 60);
        assert_eq!(stripe_expiry(now + 3600, now), now + 3600);
        assert_eq!(stripe_expiry(now + 90_000, now), now + 24 * 3600 - 60);
    }
}
