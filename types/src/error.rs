//! The one application error type, shared by server functions, the JSON API and pages.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use std::collections::BTreeMap;

/// Messages per input field, e.g. `{"per_page": ["must be between 1 and 100"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Every failure a request can end in. Each maps to one HTTP status and one contract code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The caller is not signed in or its credentials are bad (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is signed in but may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// A submitted body or form has invalid fields (422).
    #[error("{message}")]
    Validation {
        /// A sentence for a person.
        message: String,
        /// Per-field messages.
        fields: FieldErrors,
    },
    /// Query parameters are invalid (400 with code `validation`).
    #[error("{message}")]
    InvalidQuery {
        /// A sentence for a person.
        message: String,
        /// Per-field messages.
        fields: FieldErrors,
    },
    /// The request is malformed in a way no single field explains (400).
    #[error("{0}")]
    BadRequest(String),
    /// The change clashes with the current state, e.g. a duplicate or too little stock (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again after the given number of seconds (429).
    #[error("{message}")]
    RateLimited {
        /// A sentence for a person.
        message: String,
        /// When to try again.
        retry_after_secs: u64,
    },
    /// A dependency such as Redis or Postgres is down; try again shortly (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure. The details are logged, never shown (500).
    #[error("{0}")]
    Internal(String),
}

/// The `Retry-After` of every 503, in seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: &str = "2";

/// The message shown for every internal error; details stay in the logs.
pub const INTERNAL_MESSAGE: &str = "Something went wrong on our side. Please try again.";

impl AppError {
    /// A 404 naming what was missing, e.g. `not_found("product")`.
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    /// A 400 `validation` error for one query parameter.
    pub fn invalid_param(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        AppError::InvalidQuery {
            message: format!("invalid query parameter `{field}`"),
            fields,
        }
    }

    /// A 422 error for invalid body or form fields.
    pub fn validation(fields: FieldErrors) -> Self {
        AppError::Validation {
            message: "some fields are invalid".to_owned(),
            fields,
        }
    }

    /// A 422 error for one invalid body or form field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.clone()]);
        AppError::Validation { message, fields }
    }

    /// An internal error: logs `context` and the cause on the server, shows a generic message.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        #[cfg(feature = "ssr")]
        tracing::error!(context, error = %cause, "internal error");
        #[cfg(not(feature = "ssr"))]
        let _ = (context, cause.to_string());
        AppError::Internal(INTERNAL_MESSAGE.to_owned())
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::Validation { .. } => 422,
            AppError::InvalidQuery { .. } | AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// The contract's machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Validation { .. } | AppError::InvalidQuery { .. } => "validation",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::RateLimited { .. } => "rate_limited",
            // The contract has no code of its own for 503: it is an `internal` failure, and transient.
            AppError::Unavailable(_) => "internal",
            AppError::Internal(_) => "internal",
        }
    }

    /// Per-field messages, when there are any.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Validation { fields, .. } | AppError::InvalidQuery { fields, .. } => {
                Some(fields)
            }
            _ => None,
        }
    }

    /// The contract's error body: `{"error": {"code", "message", "fields"?}}`.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                fields: self.fields().cloned(),
            },
        }
    }
}

/// Every error answer of the JSON API: `{"error": {"code", "message", "fields"?}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// `not_found`, `unauthorized`, `forbidden`, `validation`, `bad_request`, `conflict`,
    /// `rate_limited` or `internal`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    /// Per-field messages for a `validation` error, keyed by the field's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(format!("invalid arguments: {msg}"))
            }
            ServerFnErrorErr::Request(_) => AppError::Unavailable(
                "Could not reach the store. Check your connection and try again.".to_owned(),
            ),
            other => AppError::internal("server function transport", other),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{AppError, UNAVAILABLE_RETRY_AFTER_SECS};
    use axum::response::{IntoResponse, Response};
    use http::{header, HeaderValue, StatusCode};

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            match &err {
                sqlx::Error::RowNotFound => AppError::NotFound("not found".to_owned()),
                sqlx::Error::Database(db) => match db.code().as_deref() {
                    // unique_violation, foreign_key_violation
                    Some("23505") => AppError::Conflict(format!(
                        "already exists ({})",
                        db.constraint().unwrap_or("unique constraint")
                    )),
                    Some("23503") => AppError::Conflict(
                        "a referenced record is missing or still in use".to_owned(),
                    ),
                    // check_violation, not_null_violation, string_data_right_truncation
                    Some("23514") | Some("23502") | Some("22001") => AppError::Validation {
                        message: format!(
                            "invalid value ({})",
                            db.constraint().unwrap_or(db.message())
                        ),
                        fields: Default::default(),
                    },
                    // character_not_in_repertoire, untranslatable_character: text Postgres
                    // cannot store, such as a NUL byte in a name or a description.
                    Some("22021") | Some("22P05") => AppError::Validation {
                        message: "text may not contain NUL or other unstorable characters"
                            .to_owned(),
                        fields: Default::default(),
                    },
                    // serialization_failure, deadlock_detected: safe for the client to retry
                    Some("40001") | Some("40P01") => AppError::Conflict(
                        "the request clashed with another one; please retry".to_owned(),
                    ),
                    // Connection exceptions and operator intervention (a shutdown, a
                    // restart, a failover): the database is briefly away, not broken.
                    Some(code) if code.starts_with("08") || code.starts_with("57P") => {
                        tracing::warn!(error = %err, "database unavailable");
                        AppError::Unavailable(
                            "The store is busy. Please try again in a moment.".to_owned(),
                        )
                    }
                    _ => AppError::internal("database", &err),
                },
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_) => {
                    tracing::warn!(error = %err, "database unavailable");
                    AppError::Unavailable(
                        "The store is busy. Please try again in a moment.".to_owned(),
                    )
                }
                _ => AppError::internal("database", &err),
            }
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut res = (status, axum::Json(self.to_body())).into_response();
            match &self {
                AppError::RateLimited {
                    retry_after_secs, ..
                } => {
                    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                        res.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                }
                // An outage is usually over in seconds: tell clients when to come back.
                AppError::Unavailable(_) => {
                    res.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER_SECS),
                    );
                }
                _ => {}
            }
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_has_the_contract_status_and_code() {
        let cases = [
            (AppError::not_found("product"), 404, "not_found"),
            (AppError::Unauthorized("x".into()), 401, "unauthorized"),
            (AppError::Forbidden("x".into()), 403, "forbidden"),
            (AppError::validation(FieldErrors::new()), 422, "validation"),
            (AppError::invalid_param("page", "bad"), 400, "validation"),
            (AppError::BadRequest("x".into()), 400, "bad_request"),
            (AppError::Conflict("x".into()), 409, "conflict"),
            (
                AppError::RateLimited {
                    message: "x".into(),
                    retry_after_secs: 3,
                },
                429,
                "rate_limited",
            ),
            (AppError::Internal("x".into()), 500, "internal"),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status(), err.code()), (status, code), "{err:?}");
        }
    }

    #[test]
    fn body_has_the_contract_shape_with_fields() {
        let body = serde_json::to_value(
            AppError::invalid_param("per_page", "must be between 1 and 100").to_body(),
        )
        .expect("json");
        assert_eq!(body["error"]["code"], "validation");
        assert_eq!(
            body["error"]["fields"]["per_page"][0],
            "must be between 1 and 100"
        );
        let body = serde_json::to_value(AppError::not_found("product").to_body()).expect("json");
        assert!(body["error"].get("fields").is_none());
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal("test", "password=hunter2 leaked in a driver error");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn round_trips_through_the_server_fn_encoding() {
        let err = AppError::invalid_param("q", "too long");
        let back = AppError::de(err.ser());
        assert_eq!(back, err);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod ssr_tests {
    use super::AppError;
    use axum::response::IntoResponse;

    /// A database error with only a SQLSTATE, as the driver reports one.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            "database error"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn from_code(code: &'static str) -> AppError {
        sqlx::Error::Database(Box::new(Coded(code))).into()
    }

    #[test]
    fn a_database_shutting_down_or_unreachable_is_a_503_with_retry_after() {
        // admin_shutdown, crash_shutdown, cannot_connect_now, connection_failure
        for code in ["57P01", "57P02", "57P03", "08006"] {
            let err = from_code(code);
            assert_eq!(err.status(), 503, "{code}: {err:?}");
            let res = err.into_response();
            assert!(res.headers().contains_key("retry-after"), "{code}");
        }
        assert_eq!(
            from_code("42P01").status(),
            500,
            "a missing table is a bug, not an outage"
        );
    }
}
