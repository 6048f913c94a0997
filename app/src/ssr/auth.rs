//! Who is calling a server function or rendering a page. The request parts are in the
//! Leptos context; everything else is the shared request glue in `web`, so the pages and
//! the JSON API authenticate the one same way.

use domain::admin::Actor;
use http::request::Parts;
use leptos::prelude::*;
use std::net::IpAddr;
use tower_sessions::Session;
use types::{AppError, Role, User};

fn request_parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| AppError::internal("auth", "request parts not in context"))
}

/// The signed-in user of this server-function call or page render, if any.
pub async fn viewer() -> Result<Option<User>, AppError> {
    let parts = request_parts()?;
    let services = super::services()?;
    web::resolve(&parts.headers, parts.extensions.get::<Session>(), &services).await
}

/// The signed-in user, or 401.
pub async fn require_user() -> Result<User, AppError> {
    web::caller::require(viewer().await?)
}

/// An admin, or 401/403.
pub async fn require_admin() -> Result<User, AppError> {
    web::caller::require_role(viewer().await?, Role::Admin)
}

/// The calling admin as an audit actor, or 401/403.
pub async fn require_admin_actor() -> Result<Actor, AppError> {
    Actor::of(&require_admin().await?)
}

/// The session and client IP of this server-function call.
pub fn request() -> Result<(Session, Option<IpAddr>), AppError> {
    let parts = request_parts()?;
    let services = super::services()?;
    let session = web::session_of(&parts)?;
    Ok((session, web::client_ip(&parts, &services)))
}

/// Keeps only same-site paths for post-login redirects, judged the way a browser reads the
/// `Location`: it drops tabs and newlines, trims spaces and control characters, and takes
/// `\` for `/`, so `/<TAB>/evil.example` and `\/evil.example` both mean `//evil.example`.
/// Anything that is not a plain printable-ASCII path goes to `/account`.
pub fn safe_next(next: Option<&str>) -> String {
    const FALLBACK: &str = "/account";
    let Some(next) = next else {
        return FALLBACK.to_owned();
    };
    let read: String = next
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let printable = read.chars().all(|c| c.is_ascii_graphic());
    let mut chars = read.chars();
    let same_site = chars.next() == Some('/') && chars.next() != Some('/');
    // An encoded slash in the path is never needed here, and a proxy that decodes it would
    // see `//evil.example` again.
    let path = read
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let encoded_slash = path.contains("%2f") || path.contains("%5c");
    if printable && same_site && !encoded_slash {
        read
    } else {
        FALLBACK.to_owned()
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next(Some("/orders")), "/orders");
        assert_eq!(safe_next(Some("/search?q=a%2Fb")), "/search?q=a%2Fb");
        for bad in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil"),
            Some("\\/evil"),
            Some("/\t/evil.example"),
            Some("/\n/evil.example"),
            Some(" //evil.example"),
            Some("\u{1}//evil.example"),
            Some("/%2F/evil.example"),
            Some("/%5c%5cevil.example"),
            Some("/caf\u{e9}"),
            Some("orders"),
            Some(""),
        ] {
            assert_eq!(safe_next(bad), "/account", "{bad:?}");
        }
    }
}
