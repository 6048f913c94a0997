//! Checkout, the one use-case that spans services: the body checked against the rules,
//! the order placed from the cart (all or nothing), the cart emptied, and the payment
//! session opened. Both doors call [`Checkout::place`]; the checkout page also reads
//! [`Checkout::summary`], and a shopper's order page [`Checkout::order_for`].

use crate::accounts::Accounts;
use crate::cart::{CartOwner, Carts};
use crate::flags::{keys, Flags};
use crate::metrics;
use crate::orders::{Orders, PlaceOrder};
use crate::payments::Payments;
use types::{
    accounts::FormErrors, Address, AppError, CheckoutRequest, CheckoutResponse, CheckoutSummary,
    Email, IdempotencyKey, Money, Order, ShippingMethod, User,
};

/// The checkout use-cases over the services they span.
#[derive(Clone)]
pub struct Checkout {
    carts: Carts,
    orders: Orders,
    payments: Payments,
    flags: Flags,
    accounts: Accounts,
}

/// A checkout body that passed every rule.
struct Valid {
    email: Email,
    address: Address,
    method: ShippingMethod,
}

/// Checks a checkout body against the rules, collecting every bad field (422). A signed-in
/// shopper who leaves the email out checks out under their account's.
fn parse(body: &CheckoutRequest, account_email: Option<&str>) -> Result<Valid, AppError> {
    let mut errors = FormErrors::default();
    let typed = body
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let email = match typed.or(account_email) {
        Some(e) => errors.check("email", Email::parse(e)),
        None => errors.check::<Email, _>("email", Err("email is required for guest checkout")),
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
    errors.finish()?;
    match (email, address, method) {
        (Some(email), Some(address), Some(method)) => Ok(Valid {
            email,
            address,
            method,
        }),
        _ => Err(AppError::internal(
            "checkout parse",
            "field missing after a clean check",
        )),
    }
}

impl Checkout {
    /// The use-case over the services it spans.
    pub fn new(
        carts: Carts,
        orders: Orders,
        payments: Payments,
        flags: Flags,
        accounts: Accounts,
    ) -> Self {
        Checkout {
            carts,
            orders,
            payments,
            flags,
            accounts,
        }
    }

    /// Places the order for `owner`'s cart, empties the cart and opens the payment
    /// session. 422 for a bad body, 400 for an empty cart, 409 when stock is short
    /// (nothing is reserved then). The same key answers with the same order, and a
    /// provider outage leaves the order saved: the same key retried opens the session.
    #[tracing::instrument(name = "checkout.place", skip_all, fields(scope = %owner.checkout_scope(), order_id))]
    pub async fn place(
        &self,
        owner: &CartOwner,
        user: Option<&User>,
        body: &CheckoutRequest,
        key: &IdempotencyKey,
    ) -> Result<CheckoutResponse, AppError> {
        let result = self.place_unmetered(owner, user, body, key).await;
        if let Err(e) = &result {
            metrics::checkout_failed(e);
        }
        result
    }

    async fn place_unmetered(
        &self,
        owner: &CartOwner,
        user: Option<&User>,
        body: &CheckoutRequest,
        key: &IdempotencyKey,
    ) -> Result<CheckoutResponse, AppError> {
        let valid = parse(body, user.map(|u| u.email.as_str()))?;
        if valid.method == ShippingMethod::Express
            && !self.flags.enabled(keys::EXPRESS_SHIPPING).await?
        {
            return Err(AppError::invalid_field(
                "shipping_method",
                "Express shipping is not available right now; choose standard.",
            ));
        }
        let (lines, discount_code) = self.carts.contents(owner).await?;
        let input = PlaceOrder {
            scope: owner.checkout_scope(),
            user_id: user.map(|u| u.id),
            email: valid.email,
            address: valid.address,
            method: valid.method,
            idempotency_key: key.clone(),
            lines,
            discount_code,
        };
        // A replayed key answers with the first order even though the cart is empty by then.
        let placed = self.orders.place(&input).await?;
        tracing::Span::current().record("order_id", tracing::field::display(placed.order.id));
        if placed.created {
            metrics::METRICS.orders_created.inc();
            if let Err(e) = self.carts.clear(owner).await {
                tracing::warn!(error = %e, "order placed but the cart could not be emptied");
            }
        }
        let payment_url = self.payments.start(&placed.order).await?;
        Ok(CheckoutResponse {
            order_id: placed.order.id,
            status: placed.order.status,
            total: placed.order.total,
            payment_url,
        })
    }

    /// What the checkout page shows before the order is placed: the cart, both shipping
    /// choices with their totals, and the shopper's saved addresses.
    pub async fn summary(
        &self,
        owner: Option<&CartOwner>,
        user: Option<&User>,
    ) -> Result<CheckoutSummary, AppError> {
        let cart = self.carts.view_of(owner).await?;
        let pricing = &self.orders.pricing;
        let currency = cart.subtotal.currency;
        // The same sums as checkout: the cart's discount off the goods, free shipping if
        // the code gives it.
        let (discount, free_shipping) = cart
            .discount
            .as_ref()
            .map_or((0, false), |d| (d.amount.amount, d.free_shipping));
        let total = |shipping: i64| {
            let shipping = if free_shipping { 0 } else { shipping };
            pricing
                .totals(cart.subtotal.amount, discount, shipping)
                .map(|t| Money::new(t.total, currency))
        };
        let saved_addresses = match user {
            Some(u) => self.accounts.addresses(&u.id).await?,
            None => Vec::new(),
        };
        Ok(CheckoutSummary {
            standard_total: total(pricing.standard_shipping)?,
            express_total: total(pricing.express_shipping)?,
            standard_shipping: Money::new(pricing.standard_shipping, currency),
            express_shipping: Money::new(pricing.express_shipping, currency),
            tax_bps: pricing.tax_bps,
            express_available: self.flags.enabled(keys::EXPRESS_SHIPPING).await?,
            account_email: user.map(|u| u.email.clone()),
            saved_addresses,
            token: uuid::Uuid::new_v4().simple().to_string(),
            cart,
        })
    }

    /// One order, if the caller may see it: a signed-in shopper their own, a guest the
    /// ones placed from their cart. Anyone else's is a 404, never a 403.
    pub async fn order_for(
        &self,
        id: &str,
        user: Option<&User>,
        cart: Option<&CartOwner>,
    ) -> Result<Order, AppError> {
        let guest_scope = match user {
            Some(_) => None,
            None => cart.map(CartOwner::checkout_scope),
        };
        self.orders
            .visible_to(id, user.map(|u| &u.id), guest_scope.as_deref())
            .await?
            .ok_or_else(|| AppError::not_found("order"))
    }
}
