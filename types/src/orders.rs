//! Carts, checkout and orders: the contract's shapes and the order status machine.

use crate::{Address, AppError, Money, Quantity, Sku};
use serde::{Deserialize, Serialize};

/// One line as the cart stores it: which variant, how many.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CartLine {
    /// The variant.
    pub sku: Sku,
    /// How many, 1 to 99.
    pub quantity: Quantity,
}

/// One cart line, priced now from the catalog (never from the client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartItem {
    /// The variant.
    pub sku: String,
    /// Product and variant name.
    pub name: String,
    /// How many, 1 to 99.
    pub quantity: i64,
    /// One unit's price now.
    pub unit_price: Money,
    /// Quantity times the unit price.
    pub line_total: Money,
    /// Units available right now, so the cart can warn before checkout.
    #[serde(default)]
    pub available: i64,
    /// The variant's option values, e.g. `{"Size":"M"}`.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
    /// What the cart's discount code takes off this line, when it covers it.
    #[serde(default)]
    pub discount: Option<Money>,
}

/// `GET /api/cart`: `{"items","subtotal","item_count","discount","total"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cart {
    /// The lines, priced now.
    pub items: Vec<CartItem>,
    /// The sum of the lines.
    pub subtotal: Money,
    /// Units across the lines.
    pub item_count: i64,
    /// The discount code applied to the cart and what it takes off, if it applies now.
    #[serde(default)]
    pub discount: Option<crate::promotions::Discount>,
    /// The subtotal less the discount, before shipping and tax.
    pub total: Money,
    /// Why the cart's code no longer applies (it stays on the cart until removed).
    #[serde(default)]
    pub discount_note: Option<String>,
}

impl Cart {
    /// The cart of someone who has none yet.
    pub fn empty() -> Self {
        Cart {
            items: Vec::new(),
            subtotal: Money::new(0, crate::Currency::USD),
            item_count: 0,
            discount: None,
            total: Money::new(0, crate::Currency::USD),
            discount_note: None,
        }
    }
}

impl Default for Cart {
    fn default() -> Self {
        Cart::empty()
    }
}

/// The answer for an amount too large to add up or charge.
pub fn too_large() -> AppError {
    AppError::Conflict(
        "This order is too large to charge in one payment. Lower a quantity.".to_owned(),
    )
}

/// `POST /api/cart/items`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddToCart {
    /// The variant.
    pub sku: String,
    /// How many to add, 1 to 99.
    pub quantity: i64,
}

/// `PATCH /api/cart/items/{sku}`; 0 removes the line.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetQuantity {
    /// The new quantity, 0 to 99; 0 removes the line.
    pub quantity: i64,
}

/// The key that makes a checkout safe to retry: the same key places one order. 1 to 255
/// characters once trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key as sent (an `Idempotency-Key` header, or the checkout form's token).
    pub fn parse(raw: &str) -> Result<Self, crate::ParseError> {
        let key = raw.trim();
        if (1..=255).contains(&key.len()) {
            Ok(IdempotencyKey(key.to_owned()))
        } else {
            Err(crate::ParseError::new(
                "an idempotency key is 1 to 255 characters",
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything the checkout page shows before the order is placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutSummary {
    /// The cart being bought.
    pub cart: Cart,
    /// The signed-in shopper's email; guests type theirs.
    pub account_email: Option<String>,
    /// The signed-in shopper's saved addresses.
    pub saved_addresses: Vec<Address>,
    /// Standard shipping's price.
    pub standard_shipping: Money,
    /// Express shipping's price.
    pub express_shipping: Money,
    /// Tax in basis points, on the goods less their discount.
    pub tax_bps: i64,
    /// The total with standard shipping.
    pub standard_total: Money,
    /// The total with express shipping.
    pub express_total: Money,
    /// Whether express shipping is offered (the `express_shipping` feature flag).
    pub express_available: bool,
    /// A fresh idempotency key: submitting twice places one order.
    pub token: String,
}

/// How the order travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShippingMethod {
    /// Standard shipping.
    Standard,
    /// Express shipping, when the flag offers it.
    Express,
}

impl ShippingMethod {
    /// Parses `standard` or `express`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "standard" => Some(ShippingMethod::Standard),
            "express" => Some(ShippingMethod::Express),
            _ => None,
        }
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ShippingMethod::Standard => "standard",
            ShippingMethod::Express => "express",
        }
    }
}

/// `POST /api/checkout`'s body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutRequest {
    #[serde(default)]
    /// The shopper's email, prefilled on the payment page.
    pub email: Option<String>,
    /// Where the order ships.
    pub shipping_address: Address,
    /// `standard` or `express`.
    pub shipping_method: String,
}

/// `POST /api/checkout`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutResponse {
    /// The order id.
    pub order_id: crate::OrderId,
    /// `pending_payment` until the provider reports the money.
    pub status: OrderStatus,
    /// What the shopper pays.
    pub total: Money,
    /// Where the shopper pays.
    pub payment_url: String,
}

/// Where an order is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Stored as text (`orders.status`), read and written as this enum.
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed; stock reserved until the hold runs out.
    PendingPayment,
    /// The money arrived.
    Paid,
    /// On its way.
    Shipped,
    /// Arrived.
    Delivered,
    /// Cancelled; its stock is back.
    Cancelled,
    /// The money went back.
    Refunded,
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl OrderStatus {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }

    /// Parses the database spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            OrderStatus::PendingPayment,
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "Awaiting payment",
            OrderStatus::Paid => "Paid",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::Cancelled => "Cancelled",
            OrderStatus::Refunded => "Refunded",
        }
    }

    /// The legal moves: pending_payment → paid → shipped → delivered, with cancelled
    /// (before shipping) and refunded (after payment). Everything else is refused.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (PendingPayment, Paid)
                | (PendingPayment, Cancelled)
                | (Paid, Shipped)
                | (Paid, Cancelled)
                | (Paid, Refunded)
                | (Shipped, Delivered)
                | (Shipped, Refunded)
                | (Delivered, Refunded)
        )
    }

    /// The statuses from which `next` may be reached.
    pub fn sources(next: OrderStatus) -> Vec<OrderStatus> {
        use OrderStatus::*;
        [
            PendingPayment,
            Paid,
            Shipped,
            Delivered,
            Cancelled,
            Refunded,
        ]
        .into_iter()
        .filter(|s| s.can_become(next))
        .collect()
    }
}

/// One line of an order, at the price it was bought for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// The variant.
    pub sku: String,
    /// Product and variant name at the time of the order.
    pub name: String,
    /// How many.
    pub quantity: i64,
    /// One unit's price at the time of the order.
    pub unit_price: Money,
    /// The line's share of the order's discount, when the code covered it.
    #[serde(default)]
    pub discount: Option<Money>,
}

/// An order: `{"id","status","lines","subtotal","shipping","tax","total","created_at"}` and more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    /// The order id.
    pub id: crate::OrderId,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// What was bought.
    pub lines: Vec<OrderLine>,
    /// The goods.
    pub subtotal: Money,
    /// The discount code used and what it took off the goods; `total = subtotal −
    /// discount + shipping + tax`.
    #[serde(default)]
    pub discount: Option<crate::promotions::Discount>,
    /// Shipping.
    pub shipping: Money,
    /// Tax on the goods less their discount.
    pub tax: Money,
    /// What the shopper pays.
    pub total: Money,
    /// RFC 3339.
    pub created_at: String,
    /// Where its emails go.
    pub email: String,
    /// Standard or express.
    pub shipping_method: ShippingMethod,
    /// Where it ships.
    pub shipping_address: Address,
    /// The carrier's number, once shipped.
    pub tracking_number: Option<String>,
    /// Where to pay while the order is `pending_payment`.
    #[serde(default)]
    pub payment_url: Option<String>,
    /// Why the last payment attempt failed, so the shopper can try again.
    #[serde(default)]
    pub payment_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_machine_allows_only_the_documented_moves() {
        use OrderStatus::*;
        assert!(PendingPayment.can_become(Paid));
        assert!(Paid.can_become(Shipped) && Shipped.can_become(Delivered));
        assert!(PendingPayment.can_become(Cancelled) && Paid.can_become(Refunded));
        for (from, to) in [
            (PendingPayment, Shipped),
            (Cancelled, Paid),
            (Delivered, Shipped),
            (Refunded, Paid),
            (Shipped, Cancelled),
            (Paid, Paid),
        ] {
            assert!(!from.can_become(to), "{from:?} -> {to:?}");
        }
        assert_eq!(OrderStatus::sources(Cancelled), vec![PendingPayment, Paid]);
    }

    #[test]
    fn statuses_round_trip_through_their_spelling() {
        for s in [
            "pending_payment",
            "paid",
            "shipped",
            "delivered",
            "cancelled",
            "refunded",
        ] {
            assert_eq!(OrderStatus::parse(s).map(OrderStatus::as_str), Some(s));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
        assert_eq!(
            serde_json::to_string(&OrderStatus::PendingPayment).expect("json"),
            "\"pending_payment\""
        );
    }
}
