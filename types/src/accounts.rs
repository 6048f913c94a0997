//! Accounts: the user shape of the contract, forms and their parsing rules.

use crate::{AppError, Email, FieldErrors};
use serde::{Deserialize, Serialize};

/// What a user may do. Deny is the default: only `Admin` reaches the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A shopper.
    Customer,
    /// A merchant with the admin pages and API.
    Admin,
}

impl Role {
    /// The database and token spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    /// Parses the database spelling; anything unknown is a customer, never an admin.
    pub fn parse(raw: &str) -> Role {
        if raw == "admin" {
            Role::Admin
        } else {
            Role::Customer
        }
    }
}

/// A user as the API shows it: `{"id","email","name"}` plus the role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// The user id (a UUID).
    pub id: crate::UserId,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Customer or admin.
    pub role: Role,
}

impl User {
    /// Whether this user has the admin role.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A password as typed: 10 to 256 characters, kept exactly (no trimming).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// The shortest password accepted.
    pub const MIN_CHARS: usize = 10;
    /// The longest password accepted (argon2 is slow on purpose; this bounds it).
    pub const MAX_CHARS: usize = 256;

    /// Checks the length rules.
    pub fn parse(raw: &str) -> Result<Self, crate::ParseError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            Err(crate::ParseError::new(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            )))
        } else if n > Self::MAX_CHARS {
            Err(crate::ParseError::new(format!(
                "password must be at most {} characters",
                Self::MAX_CHARS
            )))
        } else {
            Ok(Password(raw.to_owned()))
        }
    }

    /// The password, for hashing or verifying only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name.
    pub fn parse(raw: &str) -> Result<Self, crate::ParseError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(crate::ParseError::new("name is required"));
        }
        if s.chars().count() > 100 {
            return Err(crate::ParseError::new(
                "name must be at most 100 characters",
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(crate::ParseError::new(
                "name must not contain control characters",
            ));
        }
        Ok(PersonName(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects per-field parse results into one 422 error.
#[derive(Default)]
pub struct FormErrors(FieldErrors);

impl FormErrors {
    /// Records `result`'s error under `field`, returning its value when valid.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0
                    .entry(field.to_owned())
                    .or_default()
                    .push(e.to_string());
                None
            }
        }
    }

    /// `Ok(())` when nothing failed, else the 422.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(self.0))
        }
    }
}

/// A signup request as sent: `{"email","password","name"}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    /// The account's email.
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    /// The display name.
    pub name: String,
}

/// A valid signup.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The account's email.
    pub email: Email,
    /// The password, never logged.
    pub password: Password,
    /// The display name.
    pub name: PersonName,
}

impl SignupRequest {
    /// Parses every field, reporting all the bad ones.
    pub fn parse(&self) -> Result<NewUser, AppError> {
        let mut errors = FormErrors::default();
        let email = errors.check("email", Email::parse(&self.email));
        let password = errors.check("password", Password::parse(&self.password));
        let name = errors.check("name", PersonName::parse(&self.name));
        errors.finish()?;
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) => Ok(NewUser {
                email,
                password,
                name,
            }),
            _ => Err(AppError::internal(
                "signup parse",
                "field missing after a clean check",
            )),
        }
    }
}

/// `POST /api/users/me/password`: `{"current_password","new_password"}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The one to change to, 8 to 128 characters.
    pub new_password: String,
}

impl PasswordChange {
    /// The new password, checked by the signup rules (422 on `new_password`); the current
    /// one is only compared, so it is not parsed.
    pub fn parse(&self) -> Result<Password, AppError> {
        let mut errors = FormErrors::default();
        if self.current_password.is_empty() {
            errors.check::<(), _>("current_password", Err("is required"));
        }
        let new = errors.check("new_password", Password::parse(&self.new_password));
        errors.finish()?;
        new.ok_or_else(|| AppError::internal("password parse", "field missing after a clean check"))
    }
}

/// Email and password, for login and for API tokens.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    /// The account's email.
    pub email: String,
    /// Its password.
    pub password: String,
}

/// `POST /api/auth/token`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// A shipping address, as stored and as entered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    #[serde(default)]
    /// Set on a saved address.
    pub id: Option<String>,
    /// The recipient.
    pub name: String,
    /// Street and number.
    pub line1: String,
    #[serde(default)]
    /// Flat, floor, company.
    pub line2: Option<String>,
    /// The city.
    pub city: String,
    /// The postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: String,
}

impl Address {
    /// Trims and checks every field; the country is upper-cased.
    pub fn parse(&self) -> Result<Address, AppError> {
        fn text(raw: &str, max: usize, what: &str) -> Result<String, String> {
            let s = raw.trim();
            if s.is_empty() {
                Err(format!("{what} is required"))
            } else if s.chars().count() > max || s.chars().any(char::is_control) {
                Err(format!("{what} must be at most {max} plain characters"))
            } else {
                Ok(s.to_owned())
            }
        }
        let mut errors = FormErrors::default();
        let name = errors.check("name", text(&self.name, 100, "name"));
        let line1 = errors.check("line1", text(&self.line1, 200, "address"));
        let line2 = match self
            .line2
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(None),
            Some(s) => errors.check("line2", text(s, 200, "address line 2").map(Some)),
        };
        let city = errors.check("city", text(&self.city, 100, "city"));
        let postal_code = errors.check("postal_code", text(&self.postal_code, 20, "postal code"));
        let country = self.country.trim().to_ascii_uppercase();
        let country_ok = country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase());
        errors.check(
            "country",
            if country_ok {
                Ok(())
            } else {
                Err("country must be a two-letter code such as US")
            },
        );
        errors.finish()?;
        Ok(Address {
            id: self.id.clone(),
            name: name.unwrap_or_default(),
            line1: line1.unwrap_or_default(),
            line2: line2.flatten(),
            city: city.unwrap_or_default(),
            postal_code: postal_code.unwrap_or_default(),
            country,
        })
    }

    /// One line for lists, e.g. `Ann Lee, 1 Main St, Springfield 12345, US`.
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.name.clone(), self.line1.clone()];
        parts.extend(self.line2.clone());
        parts.push(format!("{} {}", self.city, self.postal_code));
        parts.push(self.country.clone());
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_reports_every_bad_field() {
        let req = SignupRequest {
            email: "nope".into(),
            password: "short".into(),
            name: " ".into(),
        };
        let err = req.parse().expect_err("invalid");
        assert_eq!(err.status(), 422);
        let fields = err.fields().expect("fields");
        assert!(
            fields.contains_key("email")
                && fields.contains_key("password")
                && fields.contains_key("name")
        );
    }

    #[test]
    fn signup_normalizes_email_and_name() {
        let req = SignupRequest {
            email: " Ann@Example.com".into(),
            password: "correct horse".into(),
            name: " Ann ".into(),
        };
        let user = req.parse().expect("valid");
        assert_eq!(
            (user.email.as_str(), user.name.as_str()),
            ("ann@example.com", "Ann")
        );
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("ééééééééééé").is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-secret").expect("valid")),
            "Password(***)"
        );
    }

    #[test]
    fn unknown_roles_are_never_admin() {
        assert_eq!(Role::parse("admin"), Role::Admin);
        assert_eq!(Role::parse("ADMIN"), Role::Customer);
        assert_eq!(Role::parse(""), Role::Customer);
    }

    #[test]
    fn addresses_are_trimmed_and_checked() {
        let a = Address {
            name: " Ann ".into(),
            line1: "1 Main St".into(),
            line2: Some("  ".into()),
            city: "Springfield".into(),
            postal_code: "12345".into(),
            country: "us".into(),
            ..Default::default()
        };
        let parsed = a.parse().expect("valid");
        assert_eq!(
            (parsed.name.as_str(), parsed.line2, parsed.country.as_str()),
            ("Ann", None, "US")
        );
        let bad = Address {
            country: "USA".into(),
            ..a
        };
        assert!(bad
            .parse()
            .expect_err("invalid")
            .fields()
            .expect("fields")
            .contains_key("country"));
    }
}
