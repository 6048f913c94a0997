//! Server-only glue between server functions and the domain services.

pub mod auth;

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

/// Passes a result through, giving an error response its proper HTTP status, except for
/// a form posted without JavaScript: that one must stay a 302 back to the form, which
/// then shows the error (Leptos carries it in the URL).
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
        if !plain_form_post() {
            set_status(err.status());
        }
    }
    result
}

/// Sets the page's Content-Security-Policy with this render's script nonce: only our own
/// scripts and WASM run, nothing may frame the page. Development also allows the
/// live-reload websocket.
pub fn set_page_csp(reload_port: u32, development: bool) {
    let Some(res) = use_context::<ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    let connect = if development {
        format!(" ws://127.0.0.1:{reload_port} ws://localhost:{reload_port}")
    } else {
        String::new()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{nonce}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'{connect}; font-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Whether this call is a form posted without JavaScript (it expects a page back).
pub fn plain_form_post() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == http::Method::POST
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
    })
}

/// Redirects a no-JavaScript form post to `path`; hydrated pages stay where they are.
pub fn redirect_plain_form(path: &str) {
    if plain_form_post() {
        leptos_axum::redirect(path);
    }
}
