//! Newtypes that can only hold valid values: construct them with `parse`, then trust them.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why a value failed to parse, in words fit to show next to a form field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    /// Wraps a message.
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}

// Serde support goes through `parse`, so deserializing can never build an invalid value.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The inner string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        // On the wire it is the string it was parsed from.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::string_schema(stringify!($name)).into()
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// A normalized email address: trimmed, lower-cased, at most 254 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    /// Parses and normalizes an address such as ` Ann@Example.COM `.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(ParseError::new("email is required"));
        }
        if s.len() > 254 {
            return Err(ParseError::new("email must be at most 254 characters"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(ParseError::new("email must contain @"));
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c));
        if !local_ok || !domain_ok {
            return Err(ParseError::new("email address is not valid"));
        }
        Ok(Email(s))
    }
}

/// A stock keeping unit: 1 to 64 of `A-Z`, `0-9`, `-` and `_`, stored upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);
string_newtype!(Sku);

impl Sku {
    /// Parses a SKU, upper-casing it.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() || s.len() > 64 {
            return Err(ParseError::new("SKU must be 1 to 64 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(ParseError::new(
                "SKU may only contain letters, digits, - and _",
            ));
        }
        Ok(Sku(s))
    }
}

/// A URL slug: 1 to 120 of `a-z`, `0-9` and single inner hyphens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);
string_newtype!(Slug);

impl Slug {
    /// Parses an existing slug exactly; it must already be in canonical form.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ok = !raw.is_empty()
            && raw.len() <= 120
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if ok {
            Ok(Slug(raw.to_owned()))
        } else {
            Err(ParseError::new(
                "slug may only contain a-z, 0-9 and single hyphens",
            ))
        }
    }

    /// Derives a slug from a free-text name, e.g. `"Café Crème 2"` gives `cafe-creme-2`.
    pub fn from_name(name: &str) -> Result<Self, ParseError> {
        let mut out = String::with_capacity(name.len());
        for c in name.chars().flat_map(fold_accent) {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed = out.trim_end_matches('-');
        let cut = if trimmed.len() > 120 {
            trimmed[..120].trim_end_matches('-')
        } else {
            trimmed
        };
        Slug::parse(cut)
    }
}

fn fold_accent(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        _ => c,
    })
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(Uuid);

        // On the wire it is the UUID's string.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::string_schema(concat!("The UUID of ", $what))
                    .format(Some(utoipa::openapi::SchemaFormat::Custom("uuid".to_owned())))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            /// Parses the hyphenated or simple form of a UUID.
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                Uuid::parse_str(raw.trim())
                    .map($name)
                    .map_err(|_| ParseError::new(concat!("not ", $what)))
            }

            /// The UUID inside, for SQL.
            pub fn get(self) -> Uuid {
                self.0
            }

            /// The first eight hex digits, upper case, as people quote it: `#1A2B3C4D`.
            pub fn short(self) -> String {
                let hex = self.0.simple().to_string().to_uppercase();
                format!("#{}", &hex[..8])
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A user's id. It travels as its UUID string.
    UserId,
    "a user id"
);

uuid_id!(
    /// An order's id. It travels as its UUID string.
    OrderId,
    "an order id"
);

/// How many of one item a shopper may put in the cart: 1 to 99.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quantity(u8);

impl Quantity {
    /// The largest quantity of a line.
    pub const MAX: u8 = 99;

    /// Parses a whole number between 1 and 99.
    pub fn new(n: i64) -> Result<Self, ParseError> {
        if (1..=i64::from(Self::MAX)).contains(&n) {
            Ok(Quantity(n as u8))
        } else {
            Err(ParseError::new("quantity must be between 1 and 99"))
        }
    }

    /// Parses form input such as `"3"`.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        raw.trim()
            .parse::<i64>()
            .map_err(|_| ParseError::new("quantity must be a whole number"))
            .and_then(Quantity::new)
    }

    /// The value.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        Quantity::new(n).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").expect("valid").as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@x.com",
            "ann@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(300))).is_err());
    }

    #[test]
    fn sku_is_uppercased_and_restricted() {
        assert_eq!(
            Sku::parse("tee-blk_m").expect("valid").as_str(),
            "TEE-BLK_M"
        );
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("A B").is_err());
        assert!(Sku::parse("x'; drop table").is_err());
        assert!(Sku::parse(&"A".repeat(65)).is_err());
    }

    #[test]
    fn slug_parses_only_canonical_form() {
        assert!(Slug::parse("blue-shirt-2").is_ok());
        for bad in ["", "Blue", "-a", "a-", "a--b", "a b", "a/../b", "ümlaut"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn slug_derives_from_names() {
        assert_eq!(
            Slug::from_name("Café Crème 2").expect("valid").as_str(),
            "cafe-creme-2"
        );
        assert_eq!(
            Slug::from_name("  Hello,   World!  ")
                .expect("valid")
                .as_str(),
            "hello-world"
        );
        assert!(Slug::from_name("!!!").is_err());
    }

    #[test]
    fn quantity_accepts_one_to_ninety_nine() {
        assert_eq!(Quantity::new(1).expect("valid").get(), 1);
        assert_eq!(Quantity::parse(" 99 ").expect("valid").get(), 99);
        for bad in [0, 100, -1, i64::MAX] {
            assert!(Quantity::new(bad).is_err());
        }
        assert!(Quantity::parse("two").is_err());
        assert!(serde_json::from_str::<Quantity>("0").is_err());
        assert!(serde_json::from_str::<Quantity>("1.5").is_err());
    }
}
