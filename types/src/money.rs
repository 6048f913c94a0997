//! Money as integer minor units plus an ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code such as `USD`, always three upper-case ASCII letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollars, the store's default currency.
    pub const USD: Currency = Currency(*b"USD");

    /// Parses a three-letter code, accepting lower case input.
    pub fn parse(code: &str) -> Result<Self, crate::ParseError> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(crate::ParseError::new(
                "currency must be a three-letter ISO 4217 code",
            ));
        }
        let mut out = [0u8; 3];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b.to_ascii_uppercase();
        }
        Ok(Currency(out))
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// How many minor units make a major unit (2 for USD, 0 for JPY).
    pub fn exponent(&self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"VND" | b"CLP" | b"ISK" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" => 3,
            _ => 2,
        }
    }

    fn symbol(&self) -> Option<&'static str> {
        match &self.0 {
            b"USD" => Some("$"),
            b"EUR" => Some("€"),
            b"GBP" => Some("£"),
            b"JPY" => Some("¥"),
            _ => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// On the wire a currency is its ISO 4217 code.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::string_schema("An ISO 4217 currency code, e.g. USD")
            .pattern(Some("^[A-Z]{3}$"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount of money in integer minor units (cents for USD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// Minor units; negative only for refunds and adjustments.
    pub amount: i64,
    /// The currency the amount is in.
    pub currency: Currency,
}

impl Money {
    /// Builds an amount in minor units.
    pub fn new(amount: i64, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// An amount read back from the database. A currency code the database should never
    /// hold is an internal error, never a silent fallback to some other currency.
    pub fn from_row(amount: i64, currency: &str) -> Result<Money, crate::AppError> {
        let currency = Currency::parse(currency)
            .map_err(|e| crate::AppError::internal("stored currency", e))?;
        Ok(Money::new(amount, currency))
    }

    /// Adds two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.amount.checked_add(other.amount))
            .flatten()
            .map(|amount| Money::new(amount, self.currency))
    }

    /// Parses a price typed by a person in major units ("12", "12.5", "1,234.50") into
    /// exact minor units, without floats. Negative or over-precise amounts are refused.
    pub fn parse_major(raw: &str, currency: Currency) -> Result<Money, crate::ParseError> {
        let text: String = raw.trim().chars().filter(|c| *c != ',').collect();
        let text = text.strip_prefix('$').unwrap_or(&text);
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let exp = currency.exponent() as usize;
        let bad = || crate::ParseError::new("enter a price like 12.50");
        if whole.is_empty() && frac.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac.len() > exp {
            return Err(crate::ParseError::new(
                "too many decimal places for this currency",
            ));
        }
        let scale = 10i64.pow(currency.exponent());
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let frac: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<exp$}").parse().map_err(|_| bad())?
        };
        whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac))
            .map(|amount| Money::new(amount, currency))
            .ok_or_else(|| crate::ParseError::new("that price is too large"))
    }

    /// The amount in major units as typed in a form ("12.50"), without a symbol.
    pub fn to_plain(&self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.amount.to_string();
        }
        let scale = 10i64.pow(exp);
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = exp as usize
        )
    }

    /// Multiplies by a quantity; `None` on overflow.
    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.amount
            .checked_mul(factor)
            .map(|amount| Money::new(amount, self.currency))
    }
}

impl fmt::Display for Money {
    /// Formats for people: `$1,234.50`, `€9.99`, `12.500 KWD`, `-$3.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.exponent();
        let divisor = 10u64.pow(exp);
        let abs = self.amount.unsigned_abs();
        let (major, minor) = (abs / divisor, abs % divisor);
        let digits = major.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let number = if exp == 0 {
            grouped
        } else {
            format!("{grouped}.{minor:0width$}", width = exp as usize)
        };
        let sign = if self.amount < 0 { "-" } else { "" };
        match self.currency.symbol() {
            Some(sym) => write!(f, "{sign}{sym}{number}"),
            None => write!(f, "{sign}{number} {}", self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn prices_typed_in_major_units_become_exact_minor_units() {
        let usd = Currency::USD;
        for (raw, cents) in [
            ("12", 1200),
            ("12.5", 1250),
            ("12.50", 1250),
            ("1,234.05", 123_405),
            ("$0.99", 99),
            (".5", 50),
        ] {
            assert_eq!(
                Money::parse_major(raw, usd).expect(raw).amount,
                cents,
                "{raw}"
            );
        }
        for bad in ["", "-1", "12.345", "abc", "1.2.3", "."] {
            assert!(Money::parse_major(bad, usd).is_err(), "{bad}");
        }
        assert_eq!(Money::new(1250, usd).to_plain(), "12.50");
        assert_eq!(Money::new(5, usd).to_plain(), "0.05");
    }

    use super::*;

    #[test]
    fn formats_dollars_with_grouping_and_cents() {
        assert_eq!(Money::new(123_450, Currency::USD).to_string(), "$1,234.50");
        assert_eq!(Money::new(5, Currency::USD).to_string(), "$0.05");
        assert_eq!(Money::new(-300, Currency::USD).to_string(), "-$3.00");
        assert_eq!(
            Money::new(100_000_000, Currency::USD).to_string(),
            "$1,000,000.00"
        );
    }

    #[test]
    fn formats_zero_and_three_decimal_currencies() {
        let jpy = Currency::parse("jpy").expect("valid");
        assert_eq!(Money::new(1500, jpy).to_string(), "¥1,500");
        let kwd = Currency::parse("KWD").expect("valid");
        assert_eq!(Money::new(12_500, kwd).to_string(), "12.500 KWD");
    }

    #[test]
    fn serializes_as_the_contract_shape() {
        let json = serde_json::to_string(&Money::new(1999, Currency::USD)).expect("json");
        assert_eq!(json, r#"{"amount":1999,"currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, Money::new(1999, Currency::USD));
    }

    #[test]
    fn rejects_malformed_currency_codes() {
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U5D").is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"DOLLARS"}"#).is_err());
    }

    #[test]
    fn refuses_to_add_different_currencies() {
        let eur = Currency::parse("EUR").expect("valid");
        assert_eq!(
            Money::new(1, Currency::USD).checked_add(Money::new(1, eur)),
            None
        );
        assert_eq!(
            Money::new(1, Currency::USD).checked_add(Money::new(2, Currency::USD)),
            Some(Money::new(3, Currency::USD))
        );
        assert_eq!(Money::new(i64::MAX, Currency::USD).checked_mul(2), None);
    }
}
