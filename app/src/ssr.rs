//! Server-only glue between server functions and the domain services.

use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use types::AppError;

/// The domain services of this request, provided by the router.
pub fn services() -> Result<domain::Services, AppError> {
    use_context::<domain::Services>()
        .ok_or_else(|| AppError::internal("server fn", "domain services not in context"))
}

/// Sets the response status of the current page or server-function call.
pub fn set_status(code: u16) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
}

/// Passes a result through, giving an error response its proper HTTP status.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
        set_status(err.status());
    }
    result
}
