//! Shipping and tax, in integer minor units with checked arithmetic.

use std::time::Duration;
use types::{AppError, ShippingMethod};

/// Shipping and tax rules, from configuration.
#[derive(Clone, Debug)]
pub struct Pricing {
    /// Standard shipping, in minor units.
    pub standard_shipping: i64,
    /// Express shipping, in minor units.
    pub express_shipping: i64,
    /// Tax in basis points (825 = 8.25 %), on the goods less their discount (prices are
    /// tax-exclusive; shipping is not taxed).
    pub tax_bps: i64,
    /// How long an unpaid order holds its stock.
    pub hold: Duration,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            standard_shipping: 500,
            express_shipping: 1500,
            tax_bps: 0,
            hold: Duration::from_secs(30 * 60),
        }
    }
}

impl Pricing {
    /// The shipping charge for `method`.
    pub fn shipping(&self, method: ShippingMethod) -> i64 {
        match method {
            ShippingMethod::Standard => self.standard_shipping,
            ShippingMethod::Express => self.express_shipping,
        }
    }

    /// Tax on `amount`, rounded half up to the minor unit; `None` past `i64`.
    pub fn tax(&self, amount: i64) -> Option<i64> {
        let tax = (i128::from(amount) * i128::from(self.tax_bps) + 5_000) / 10_000;
        i64::try_from(tax).ok()
    }

    /// What an order with goods worth `subtotal`, `discount` off them, costs with
    /// `shipping`: tax is `rate × (subtotal − discount)`, rounded half up once, and
    /// `total = subtotal − discount + shipping + tax`. Every step is checked; a sum past
    /// `i64` is a 409, never a wrapped total. A discount is never more than the goods.
    pub fn totals(&self, subtotal: i64, discount: i64, shipping: i64) -> Result<Totals, AppError> {
        let discount = discount.clamp(0, subtotal.max(0));
        let goods = subtotal.checked_sub(discount).ok_or_else(too_large)?;
        let tax = self.tax(goods).ok_or_else(too_large)?;
        let total = goods
            .checked_add(shipping)
            .and_then(|t| t.checked_add(tax))
            .ok_or_else(too_large)?;
        Ok(Totals {
            subtotal,
            discount,
            shipping,
            tax,
            total,
        })
    }
}

/// An order's charges in minor units of its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// The goods, in minor units.
    pub subtotal: i64,
    /// What the discount code takes off the goods, in minor units.
    pub discount: i64,
    /// Shipping, in minor units.
    pub shipping: i64,
    /// Tax on the goods less their discount, in minor units.
    pub tax: i64,
    /// What the shopper pays, in minor units.
    pub total: i64,
}

pub use types::too_large;

/// The sum of `quantity × unit price` over lines, checked.
pub fn subtotal(lines: impl IntoIterator<Item = (i64, i64)>) -> Result<i64, AppError> {
    lines.into_iter().try_fold(0i64, |sum, (quantity, unit)| {
        quantity
            .checked_mul(unit)
            .and_then(|line| sum.checked_add(line))
            .ok_or_else(too_large)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_rounds_half_up_in_minor_units() {
        let p = Pricing {
            tax_bps: 825,
            ..Default::default()
        };
        assert_eq!(p.tax(1000), Some(83)); // 82.5 -> 83
        assert_eq!(p.tax(0), Some(0));
        assert_eq!(Pricing::default().tax(123_456), Some(0));
    }

    #[test]
    fn totals_past_i64_are_a_409_not_a_wrapped_number() {
        let p = Pricing {
            tax_bps: 825,
            ..Pricing::default()
        };
        assert_eq!(
            p.totals(i64::MAX - 1_000, 0, 500).map_err(|e| e.status()),
            Err(409),
            "goods and shipping fit, their tax on top does not"
        );
        assert_eq!(
            p.totals(i64::MAX - 10, 0, 500).map_err(|e| e.status()),
            Err(409)
        );
        assert_eq!(
            subtotal([(3, i64::MAX / 2)]).map_err(|e| e.status()),
            Err(409)
        );
        assert_eq!(
            subtotal([(2, i64::MAX / 2), (1, 2)]).map_err(|e| e.status()),
            Err(409)
        );
        let t = p
            .totals(subtotal([(2, 1000), (1, 500)]).expect("fits"), 0, 500)
            .expect("fits");
        assert_eq!((t.subtotal, t.tax, t.total), (2500, 206, 3206));
    }

    #[test]
    fn tax_is_on_the_discounted_goods_and_the_parts_add_up() {
        let p = Pricing {
            tax_bps: 725,
            ..Pricing::default()
        };
        // 7.25 % of (40.00 − 6.00) = 2.465 → 2.47, rounded half up once for the order.
        let t = p.totals(4_000, 600, 500).expect("fits");
        assert_eq!(
            (t.discount, t.tax, t.total),
            (600, 247, 4_000 - 600 + 500 + 247)
        );
        // A discount never takes the goods below nothing.
        let t = p.totals(1_000, 5_000, 0).expect("fits");
        assert_eq!((t.discount, t.tax, t.total), (1_000, 0, 0));
        for (sub, off, ship) in [(0, 0, 0), (1, 1, 1), (999, 333, 1_500), (123_456, 0, 0)] {
            let t = p.totals(sub, off, ship).expect("fits");
            assert_eq!(t.total, t.subtotal - t.discount + t.shipping + t.tax);
        }
    }
}
