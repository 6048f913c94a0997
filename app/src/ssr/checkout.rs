//! Checkout rules shared by the JSON API and the checkout page: one parse, one place.

use super::auth;
use domain::{cart::CartOwner, orders::PlaceOrder, Services};
use types::{AppError, CheckoutRequest, CheckoutResponse, Email, ShippingMethod};

/// Checks a checkout body against the rules, collecting every bad field (422).
pub fn parse(
    body: &CheckoutRequest,
    account_email: Option<&str>,
) -> Result<(Email, types::Address, ShippingMethod), AppError> {
    let mut errors = types::accounts::FormErrors::default();
    let email = match (
        body.email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty()),
        account_email,
    ) {
        (Some(e), _) => errors.check("email", Email::parse(e)),
        (None, Some(e)) => errors.check("email", Email::parse(e)),
        (None, None) => {
            errors.check::<Email, _>("email", Err("email is required for guest checkout"))
        }
    };
    let address = match body.shipping_address.parse() {
        Ok(a) => Some(a),
        Err(e) => {
            for (field, messages) in e.fields().cloned().unwrap_or_default() {
                for m in messages {
                    errors.check::<(), _>(&format!("shipping_address.{field}"), Err(m));
                }
            }
            None
        }
    };
    let method = errors.check(
        "shipping_method",
        ShippingMethod::parse(&body.shipping_method)
            .ok_or("shipping_method must be standard or express"),
    );
    errors
        .finish()
        .inspect_err(domain::metrics::checkout_failed)?;
    match (email, address, method) {
        (Some(e), Some(a), Some(m)) => Ok((e, a, m)),
        _ => Err(AppError::internal(
            "checkout parse",
            "field missing after a clean check",
        )),
    }
}

/// Places the order for `owner`'s cart and empties the cart.
pub async fn place(
    services: &Services,
    owner: &CartOwner,
    user: Option<&types::User>,
    email: Email,
    address: types::Address,
    method: ShippingMethod,
    key: String,
) -> Result<CheckoutResponse, AppError> {
    let result = async {
        if method == ShippingMethod::Express
            && !services
                .flags
                .enabled(domain::flags::keys::EXPRESS_SHIPPING)
                .await?
        {
            return Err(AppError::invalid_field(
                "shipping_method",
                "Express shipping is not available right now; choose standard.",
            ));
        }
        let lines = services.carts.lines(owner).await?;
        let input = PlaceOrder {
            scope: auth::checkout_scope(owner),
            user_id: user.map(|u| u.id.clone()),
            email,
            address,
            method,
            idempotency_key: key,
            lines,
        };
        // A replayed key answers with the first order even though the cart is empty by then.
        let placed = services.orders.place(&input).await?;
        if placed.created {
            domain::metrics::METRICS.orders_created.inc();
            if let Err(e) = services.carts.clear(owner).await {
                tracing::warn!(error = %e, "order placed but the cart could not be emptied");
            }
        }
        // A provider outage leaves the order saved: the same key retried opens the session.
        let payment_url = services.payments.start(&placed.order).await?;
        Ok(CheckoutResponse {
            order_id: placed.order.id.clone(),
            status: placed.order.status,
            total: placed.order.total,
            payment_url,
        })
    }
    .await;
    if let Err(e) = &result {
        domain::metrics::checkout_failed(e);
    }
    result
}
