//! Discount codes: the code itself, what it takes off, the merchant's input, and the one
//! piece of arithmetic that the cart, the checkout page and checkout all use.

use crate::accounts::FormErrors;
use crate::{AppError, Money, ParseError, Sku, Slug};
use serde::{Deserialize, Serialize};

/// A discount code as shoppers type it, kept upper-case: codes are case-insensitive.
/// Two to 32 letters, digits, `-` or `_`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PromotionCode(String);

impl PromotionCode {
    /// The longest code.
    pub const MAX: usize = 32;

    /// Trims and upper-cases `raw`; refuses anything a code cannot be.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let code = raw.trim().to_ascii_uppercase();
        let len = code.chars().count();
        if !(2..=Self::MAX).contains(&len) {
            return Err(ParseError::new("a code has 2 to 32 characters"));
        }
        let mut chars = code.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !first_ok
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ParseError::new(
                "a code is letters, digits, - and _, starting with a letter or digit",
            ));
        }
        Ok(PromotionCode(code))
    }

    /// The code, upper-case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PromotionCode {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        PromotionCode::parse(&raw)
    }
}

impl From<PromotionCode> for String {
    fn from(code: PromotionCode) -> String {
        code.0
    }
}

impl std::fmt::Display for PromotionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most a percent code takes off, in basis points (100 %).
pub const MAX_BPS: i64 = 10_000;

/// What a code takes off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benefit {
    /// A share of the matching lines, in basis points (1 to 10,000).
    Percent(i64),
    /// An amount off the matching lines, at most their sum.
    Fixed(Money),
    /// No shipping charge.
    FreeShipping,
}

impl Benefit {
    /// The contract's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Benefit::Percent(_) => "percent",
            Benefit::Fixed(_) => "fixed",
            Benefit::FreeShipping => "free_shipping",
        }
    }

    /// For people: "15% off", "$5.00 off", "Free shipping".
    pub fn describe(&self) -> String {
        match self {
            Benefit::Percent(bps) if bps % 100 == 0 => format!("{}% off", bps / 100),
            Benefit::Percent(bps) => format!("{}.{:02}% off", bps / 100, bps % 100),
            Benefit::Fixed(m) => format!("{m} off"),
            Benefit::FreeShipping => "Free shipping".to_owned(),
        }
    }
}

/// What a code takes off one cart or order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The amount off each line, in the lines' order (0 for a line the code does not cover).
    pub per_line: Vec<i64>,
    /// Their sum: the order's `discount`.
    pub goods: i64,
    /// Whether shipping is free.
    pub free_shipping: bool,
}

/// Round-half-up division of a non-negative numerator by a positive denominator.
fn div_half_up(numerator: i128, denominator: i128) -> i128 {
    (numerator * 2 + denominator) / (denominator * 2)
}

/// What `benefit` takes off `lines`: each is `(covered, line total)` in minor units. The
/// amount is rounded half-up once, on the covered lines' sum, then shared out over them in
/// proportion (largest remainder first, ties to the earlier line), so the shares always
/// add up to it. A fixed amount never exceeds the covered sum.
pub fn apply(benefit: &Benefit, lines: &[(bool, i64)]) -> Applied {
    let covered: i128 = lines
        .iter()
        .filter(|(c, _)| *c)
        .map(|(_, t)| i128::from((*t).max(0)))
        .sum();
    let goods: i128 = match benefit {
        Benefit::Percent(bps) => {
            div_half_up(covered * i128::from((*bps).clamp(0, MAX_BPS)), 10_000)
        }
        Benefit::Fixed(m) => i128::from(m.amount.max(0)).min(covered),
        Benefit::FreeShipping => 0,
    };
    let mut per_line = vec![0i128; lines.len()];
    if goods > 0 && covered > 0 {
        let mut remainders = Vec::new();
        let mut given = 0i128;
        for (i, (c, t)) in lines.iter().enumerate() {
            if *c {
                let exact = goods * i128::from((*t).max(0));
                per_line[i] = exact / covered;
                given += per_line[i];
                remainders.push((exact % covered, i));
            }
        }
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders
            .into_iter()
            .take(usize::try_from(goods - given).unwrap_or(0))
        {
            per_line[i] += 1;
        }
    }
    // Every share is at most its line total, which is an i64.
    let to_i64 = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    Applied {
        per_line: per_line.into_iter().map(to_i64).collect(),
        goods: to_i64(goods),
        free_shipping: *benefit == Benefit::FreeShipping,
    }
}

/// Why a code does not apply right now. Each is a 422 at the cart with its message; at
/// checkout a code that is used up is a 409, as the contract's race says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The merchant switched it off.
    Inactive,
    /// Its window has not opened.
    NotYetValid,
    /// Its window has closed.
    Expired,
    /// Every use of it is taken.
    UsedUp,
    /// This shopper has used it as often as it allows.
    CustomerLimit,
    /// The covered lines come to less than its minimum.
    BelowMinimum(Money),
    /// No line of the cart is one it covers.
    NotApplicable,
}

impl Refusal {
    /// What the shopper is told.
    pub fn message(&self, code: &PromotionCode) -> String {
        match self {
            Refusal::Inactive => format!("The code {code} is no longer active."),
            Refusal::NotYetValid => format!("The code {code} is not valid yet."),
            Refusal::Expired => format!("The code {code} has expired."),
            Refusal::UsedUp => format!("The code {code} has been used up."),
            Refusal::CustomerLimit => {
                format!("You have already used the code {code} as often as it allows.")
            }
            Refusal::BelowMinimum(min) => {
                format!("The code {code} needs a subtotal of at least {min}.")
            }
            Refusal::NotApplicable => {
                format!("The code {code} does not apply to anything in your cart.")
            }
        }
    }

    /// The error at the cart: 422 naming the `code` field.
    pub fn at_cart(&self, code: &PromotionCode) -> AppError {
        AppError::invalid_field("code", self.message(code))
    }

    /// The error at checkout: the code changed under the shopper, so 409.
    pub fn at_checkout(&self, code: &PromotionCode) -> AppError {
        AppError::Conflict(format!(
            "{} Remove it from your cart to go on.",
            self.message(code)
        ))
    }
}

/// A code's `value` as the contract writes it: basis points for `percent` (1500 is 15 %), a
/// Money for `fixed`. Only its schema is used; the value travels as JSON and is read by
/// [`benefit`] against the code's kind.
#[cfg(feature = "openapi")]
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum PromotionValue {
    /// Basis points, 1 to 10,000, for `percent`.
    BasisPoints(i64),
    /// An amount in the store's currency, for `fixed`.
    Amount(Money),
}

/// `POST /api/cart/discount`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyCode {
    /// The code, in any case.
    pub code: String,
}

/// The discount on a cart or an order: `{"code","amount"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Discount {
    /// The code, upper-case.
    pub code: String,
    /// What it takes off the goods (0 for free shipping).
    pub amount: Money,
    /// Whether it makes shipping free.
    #[serde(default)]
    pub free_shipping: bool,
    /// What it is, for people: "15% off", "Free shipping".
    #[serde(default)]
    pub label: String,
}

/// Which lines a code covers: none named covers every line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliesTo {
    /// Category slugs; a category covers everything below it too.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Variant SKUs.
    #[serde(default)]
    pub skus: Vec<String>,
}

/// `POST /api/admin/promotions`. `value` is basis points for `percent` (1500 = 15 %), a
/// Money for `fixed`, and left out for `free_shipping`. Times are RFC 3339.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionInput {
    /// The code shoppers type; case-insensitive.
    pub code: String,
    /// `percent`, `fixed` or `free_shipping`.
    pub kind: String,
    /// Basis points (integer) for `percent`, `{"amount","currency"}` for `fixed`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PromotionValue>))]
    pub value: Option<serde_json::Value>,
    /// The least subtotal of the covered lines that the code needs.
    #[serde(default)]
    pub min_subtotal: Option<Money>,
    /// When it starts to work (RFC 3339); now when left out.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// When it stops working (RFC 3339); never when left out.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// How many orders may use it in all.
    #[serde(default)]
    pub usage_limit: Option<i64>,
    /// How many orders one customer may use it on.
    #[serde(default)]
    pub per_customer_limit: Option<i64>,
    /// The lines it covers; every line when left out.
    #[serde(default)]
    pub applies_to: Option<AppliesTo>,
}

/// `PATCH /api/admin/promotions/{code}`: any subset. `null` clears an optional field;
/// `active` switches the code off or back on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionPatch {
    /// A new kind; `value` must come with it.
    #[serde(default)]
    pub kind: Option<String>,
    /// A new value for the (new or current) kind.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PromotionValue>))]
    pub value: Option<serde_json::Value>,
    /// A new minimum, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Money>))]
    pub min_subtotal: Option<Option<Money>>,
    /// A new start, or `null` for now.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub starts_at: Option<Option<String>>,
    /// A new end, or `null` for never.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ends_at: Option<Option<String>>,
    /// A new total limit, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub usage_limit: Option<Option<i64>>,
    /// A new per-customer limit, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub per_customer_limit: Option<Option<i64>>,
    /// New covered lines; empty lists cover every line.
    #[serde(default)]
    pub applies_to: Option<AppliesTo>,
    /// Off (`false`) or back on (`true`).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A present field, even `null`, is `Some`: `null` is "clear it", absence is "keep it".
fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A promotion as the merchant sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Promotion {
    /// The code, upper-case.
    pub code: String,
    /// `percent`, `fixed` or `free_shipping`.
    pub kind: String,
    /// Basis points for `percent`, a Money for `fixed`, `null` for `free_shipping`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PromotionValue>))]
    pub value: serde_json::Value,
    /// What it is, for people: "15% off".
    pub label: String,
    /// The least covered subtotal it needs.
    pub min_subtotal: Option<Money>,
    /// RFC 3339, or `null` for "from the start".
    pub starts_at: Option<String>,
    /// RFC 3339, or `null` for "never ends".
    pub ends_at: Option<String>,
    /// How many orders may use it in all.
    pub usage_limit: Option<i64>,
    /// How many orders one customer may use it on.
    pub per_customer_limit: Option<i64>,
    /// The lines it covers.
    pub applies_to: AppliesTo,
    /// Whether shoppers can use it.
    pub active: bool,
    /// Orders holding it now (a cancelled or expired order gives its use back).
    pub redeemed: i64,
}

impl Promotion {
    /// What the code takes off, read back from its kind and value.
    pub fn benefit(&self) -> Option<Benefit> {
        benefit(&mut FormErrors::default(), &self.kind, Some(&self.value))
    }
}

/// The value of a [`Benefit`] as the contract writes it.
pub fn value_json(benefit: &Benefit) -> serde_json::Value {
    match benefit {
        Benefit::Percent(bps) => serde_json::json!(bps),
        Benefit::Fixed(m) => serde_json::json!(m),
        Benefit::FreeShipping => serde_json::Value::Null,
    }
}

/// Reads `kind` and `value` into a [`Benefit`], recording problems on `errors`.
pub fn benefit(
    errors: &mut FormErrors,
    kind: &str,
    value: Option<&serde_json::Value>,
) -> Option<Benefit> {
    match kind {
        "percent" => {
            let bps = value.and_then(serde_json::Value::as_i64);
            errors.check(
                "value",
                match bps {
                    Some(b) if (1..=MAX_BPS).contains(&b) => Ok(Benefit::Percent(b)),
                    _ => Err("must be basis points from 1 to 10000 (1500 is 15 %)"),
                },
            )
        }
        "fixed" => errors.check(
            "value",
            match value.map(|v| serde_json::from_value::<Money>(v.clone())) {
                Some(Ok(m)) if m.amount > 0 && m.currency == crate::Currency::USD => {
                    Ok(Benefit::Fixed(m))
                }
                Some(Ok(m)) if m.amount > 0 => Err("must be in the store's currency, USD"),
                _ => Err(r#"must be a positive Money, such as {"amount":500,"currency":"USD"}"#),
            },
        ),
        "free_shipping" => errors.check(
            "value",
            match value {
                None | Some(serde_json::Value::Null) => Ok(Benefit::FreeShipping),
                Some(_) => Err("must be left out for free_shipping"),
            },
        ),
        _ => errors.check::<Benefit, _>("kind", Err("must be percent, fixed or free_shipping")),
    }
}

/// A validated limit: 1 or more.
fn limit(errors: &mut FormErrors, field: &str, raw: Option<i64>) -> Option<i32> {
    raw.and_then(|n| {
        errors.check(
            field,
            i32::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or("must be a whole number from 1"),
        )
    })
}

/// A validated minimum: non-negative and in USD.
fn minimum(errors: &mut FormErrors, raw: Option<Money>) -> Option<Money> {
    raw.and_then(|m| {
        errors.check(
            "min_subtotal",
            if m.amount < 0 {
                Err("must not be negative")
            } else if m.currency != crate::Currency::USD {
                Err("must be in the store's currency, USD")
            } else {
                Ok(m)
            },
        )
    })
}

/// The most categories, and SKUs, one code may name.
pub const MAX_SCOPE: usize = 500;

/// Validated covered lines: category slugs and SKUs, each at most once, at most
/// [`MAX_SCOPE`] of each.
fn scope(errors: &mut FormErrors, raw: &AppliesTo) -> (Vec<Slug>, Vec<Sku>) {
    for (field, n) in [
        ("applies_to.categories", raw.categories.len()),
        ("applies_to.skus", raw.skus.len()),
    ] {
        if n > MAX_SCOPE {
            errors.check::<(), _>(field, Err(format!("name at most {MAX_SCOPE}")));
            return (Vec::new(), Vec::new());
        }
    }
    let mut categories: Vec<Slug> = Vec::new();
    for (i, c) in raw.categories.iter().enumerate() {
        if let Some(slug) = errors.check(&format!("applies_to.categories[{i}]"), Slug::parse(c)) {
            if !categories.contains(&slug) {
                categories.push(slug);
            }
        }
    }
    let mut skus: Vec<Sku> = Vec::new();
    for (i, s) in raw.skus.iter().enumerate() {
        if let Some(sku) = errors.check(&format!("applies_to.skus[{i}]"), Sku::parse(s)) {
            if !skus.contains(&sku) {
                skus.push(sku);
            }
        }
    }
    (categories, skus)
}

/// A validated promotion change; on create every rule is set (`None` meaning "none").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromotionEdit {
    /// The code (create only).
    pub code: Option<PromotionCode>,
    /// What it takes off.
    pub benefit: Option<Benefit>,
    /// The least covered subtotal.
    pub min_subtotal: Option<Option<Money>>,
    /// Start and end, still as typed (the server reads the times).
    pub starts_at: Option<Option<String>>,
    /// See `starts_at`.
    pub ends_at: Option<Option<String>>,
    /// The total limit.
    pub usage_limit: Option<Option<i32>>,
    /// The per-customer limit.
    pub per_customer_limit: Option<Option<i32>>,
    /// Covered categories and SKUs.
    pub applies_to: Option<(Vec<Slug>, Vec<Sku>)>,
    /// On or off.
    pub active: Option<bool>,
}

/// A timestamp field as typed: trimmed, empty meaning none.
fn when(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl PromotionInput {
    /// Checks every field, collecting all problems (422).
    pub fn parse(&self) -> Result<PromotionEdit, AppError> {
        let mut errors = FormErrors::default();
        let code = errors.check("code", PromotionCode::parse(&self.code));
        let benefit = benefit(&mut errors, self.kind.trim(), self.value.as_ref());
        let min_subtotal = minimum(&mut errors, self.min_subtotal);
        let usage_limit = limit(&mut errors, "usage_limit", self.usage_limit);
        let per_customer_limit = limit(&mut errors, "per_customer_limit", self.per_customer_limit);
        let applies_to = scope(&mut errors, &self.applies_to.clone().unwrap_or_default());
        errors.finish()?;
        Ok(PromotionEdit {
            code,
            benefit,
            min_subtotal: Some(min_subtotal),
            starts_at: Some(when(self.starts_at.as_deref())),
            ends_at: Some(when(self.ends_at.as_deref())),
            usage_limit: Some(usage_limit),
            per_customer_limit: Some(per_customer_limit),
            applies_to: Some(applies_to),
            active: Some(true),
        })
    }
}

impl PromotionPatch {
    /// Checks the fields present, collecting all problems (422). A new `kind` needs its
    /// `value`; a `value` alone is read against `current_kind`.
    pub fn parse(&self, current_kind: &str) -> Result<PromotionEdit, AppError> {
        let mut errors = FormErrors::default();
        let benefit = match (&self.kind, &self.value) {
            (None, None) => None,
            (kind, value) => benefit(
                &mut errors,
                kind.as_deref().map(str::trim).unwrap_or(current_kind),
                value.as_ref(),
            ),
        };
        let min_subtotal = self.min_subtotal.map(|m| minimum(&mut errors, m));
        let usage_limit = self
            .usage_limit
            .map(|l| limit(&mut errors, "usage_limit", l));
        let per_customer_limit = self
            .per_customer_limit
            .map(|l| limit(&mut errors, "per_customer_limit", l));
        let applies_to = self.applies_to.as_ref().map(|a| scope(&mut errors, a));
        errors.finish()?;
        Ok(PromotionEdit {
            code: None,
            benefit,
            min_subtotal,
            starts_at: self.starts_at.as_ref().map(|s| when(s.as_deref())),
            ends_at: self.ends_at.as_ref().map(|s| when(s.as_deref())),
            usage_limit,
            per_customer_limit,
            applies_to,
            active: self.active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::USD)
    }

    #[test]
    fn codes_are_case_insensitive_and_refuse_what_no_one_could_type() {
        assert_eq!(
            PromotionCode::parse(" summer-15 ").map(|c| c.to_string()),
            Ok("SUMMER-15".to_owned())
        );
        for bad in ["", "a", "-LEAD", "SPACE IN", "ÜBER", &"X".repeat(33)] {
            assert!(PromotionCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_percent_rounds_once_half_up_and_its_shares_add_up() {
        // 15 % of 3 × 3.33 = 1.4985 → 1.50, shared 50/50/50.
        let a = apply(
            &Benefit::Percent(1500),
            &[(true, 333), (true, 333), (true, 333)],
        );
        assert_eq!(a.goods, 150);
        assert_eq!(a.per_line, [50, 50, 50]);
        // 10 % of 0.05 = 0.005 → 0.01 (half up), on the one covered line.
        let a = apply(&Benefit::Percent(1000), &[(false, 999), (true, 5)]);
        assert_eq!((a.goods, a.per_line.clone()), (1, vec![0, 1]));
        // Uneven shares: 1.00 off 1/3 + 2/3 goes by largest remainder.
        let a = apply(&Benefit::Fixed(usd(100)), &[(true, 100), (true, 200)]);
        assert_eq!(a.per_line, [33, 67]);
        assert_eq!(a.per_line.iter().sum::<i64>(), a.goods);
    }

    #[test]
    fn a_fixed_amount_never_takes_off_more_than_the_covered_lines() {
        let a = apply(
            &Benefit::Fixed(usd(5_000)),
            &[(true, 1_200), (false, 9_000)],
        );
        assert_eq!((a.goods, a.per_line.clone()), (1_200, vec![1_200, 0]));
        let none = apply(&Benefit::Fixed(usd(500)), &[(false, 1_000)]);
        assert_eq!(none.goods, 0);
    }

    #[test]
    fn free_shipping_takes_nothing_off_the_goods() {
        let a = apply(&Benefit::FreeShipping, &[(true, 1_000)]);
        assert_eq!((a.goods, a.free_shipping), (0, true));
    }

    #[test]
    fn shares_add_up_for_many_awkward_carts() {
        // A small exhaustive sweep instead of a random one: every split of these totals.
        for bps in [1, 333, 1_500, 6_667, 10_000] {
            for a in [1, 7, 333, 1_999] {
                for b in [0, 1, 50, 12_345] {
                    let applied =
                        apply(&Benefit::Percent(bps), &[(true, a), (true, b), (false, 77)]);
                    assert_eq!(applied.per_line.iter().sum::<i64>(), applied.goods);
                    assert!(applied.per_line[0] <= a && applied.per_line[1] <= b);
                    assert_eq!(applied.per_line[2], 0);
                    let exact = i128::from(a + b) * i128::from(bps);
                    assert_eq!(i128::from(applied.goods), (exact * 2 + 10_000) / 20_000);
                }
            }
        }
    }

    #[test]
    fn the_input_names_every_bad_field() {
        let input = PromotionInput {
            code: "x".into(),
            kind: "percent".into(),
            value: Some(serde_json::json!(0)),
            usage_limit: Some(0),
            per_customer_limit: Some(-1),
            min_subtotal: Some(usd(-5)),
            applies_to: Some(AppliesTo {
                categories: vec!["Not A Slug".into()],
                skus: vec!["bad sku!".into()],
            }),
            ..Default::default()
        };
        let err = input.parse().expect_err("invalid");
        let fields = err.fields().expect("fields");
        for f in [
            "code",
            "value",
            "usage_limit",
            "per_customer_limit",
            "min_subtotal",
            "applies_to.categories[0]",
            "applies_to.skus[0]",
        ] {
            assert!(fields.contains_key(f), "{f}: {fields:?}");
        }
        let kinds = PromotionInput {
            code: "OK10".into(),
            kind: "bogus".into(),
            ..Default::default()
        };
        assert!(kinds
            .parse()
            .expect_err("kind")
            .fields()
            .expect("f")
            .contains_key("kind"));
    }

    #[test]
    fn each_kind_reads_its_own_value() {
        let mut errors = FormErrors::default();
        assert_eq!(
            benefit(
                &mut errors,
                "fixed",
                Some(&serde_json::json!({"amount": 500, "currency": "USD"}))
            ),
            Some(Benefit::Fixed(usd(500)))
        );
        assert_eq!(
            benefit(&mut errors, "free_shipping", None),
            Some(Benefit::FreeShipping)
        );
        assert_eq!(
            benefit(&mut errors, "percent", Some(&serde_json::json!(1500))),
            Some(Benefit::Percent(1500))
        );
        assert!(errors.finish().is_ok());
        assert_eq!(Benefit::Percent(1250).describe(), "12.50% off");
        assert_eq!(Benefit::Fixed(usd(500)).describe(), "$5.00 off");
    }

    #[test]
    fn a_patch_tells_null_from_absent() {
        let patch: PromotionPatch =
            serde_json::from_str(r#"{"usage_limit": null, "active": false}"#).expect("json");
        assert_eq!(patch.usage_limit, Some(None));
        assert_eq!(patch.ends_at, None);
        let edit = patch.parse("percent").expect("valid");
        assert_eq!(edit.usage_limit, Some(None));
        assert_eq!(edit.active, Some(false));
        assert_eq!(edit.benefit, None);
    }
}
