//! The request glue both front doors share, and nothing else: who is calling (a `Bearer`
//! token wins, otherwise the session cookie), their session, whose cart the request works
//! on, and the caller's address. The JSON API uses the extractors; server functions call
//! the same functions with the request parts Leptos gives them. No business rule lives
//! here: throttles, checkout and every other use-case are in `domain`.

pub mod caller;
pub mod session;

pub use caller::{client_ip, resolve, ClientIp, RequireAdmin, RequireUser, Viewer};
pub use session::{cart_owner, cart_owner_or_new, logout, session_of, start_session};
