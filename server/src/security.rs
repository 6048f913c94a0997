//! Browser-facing protections: the Origin rule against CSRF and the security headers.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderValue, Method, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;
use types::AppError;

/// What the CSRF check accepts as "our" origin.
#[derive(Clone)]
pub struct Origins {
    allowed: Arc<Vec<String>>,
}

impl Origins {
    /// `PUBLIC_URL`'s origin is always allowed; the request's own `Host` too, over either scheme,
    /// so the app also works when reached directly by its address.
    pub fn new(public_url: &str) -> Self {
        let origin = public_url.trim_end_matches('/').to_ascii_lowercase();
        Origins {
            allowed: Arc::new(vec![origin]),
        }
    }

    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.allowed.contains(&origin) {
            return true;
        }
        host.is_some_and(|h| {
            let h = h.to_ascii_lowercase();
            origin == format!("http://{h}") || origin == format!("https://{h}")
        })
    }
}

fn origin_of_referer(referer: &str) -> Option<String> {
    let (scheme, rest) = referer.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

/// Refuses state-changing requests that a browser sent from another site (403), unless
/// they carry a Bearer token, which a foreign page cannot attach.
pub async fn csrf(State(origins): State<Origins>, req: Request<Body>, next: Next) -> Response {
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if unsafe_method && !bearer {
        let headers = req.headers();
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                headers
                    .get(header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(origin_of_referer)
            });
        let cross_site =
            headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
        let foreign = match origin.as_deref() {
            // Some browsers send "null" from sandboxed frames and privacy modes: not ours.
            Some(o) => !origins.allows(o, host),
            None => cross_site,
        };
        if foreign {
            tracing::warn!(origin = origin.as_deref().unwrap_or("-"), path = %req.uri().path(), "cross-site request refused");
            return AppError::Forbidden("Cross-site requests are not allowed.".to_owned())
                .into_response();
        }
    }
    next.run(req).await
}

/// The default policy for non-HTML answers; pages set their own, with the script nonce.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Security headers on every response that lacks them.
pub async fn headers(production: bool, req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    if production {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_origins_pass_and_others_do_not() {
        let o = Origins::new("https://shop.example.com/");
        assert!(o.allows("https://shop.example.com", None));
        assert!(o.allows("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(!o.allows("https://evil.example", Some("shop.example.com")));
        assert!(!o.allows("null", Some("shop.example.com")));
        assert!(!o.allows("https://shop.example.com.evil.example", None));
    }

    #[test]
    fn referer_gives_its_origin() {
        assert_eq!(
            origin_of_referer("https://a.example/x/y?z").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(origin_of_referer("garbage"), None);
    }
}
