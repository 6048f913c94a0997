//! The Bazaar server: configuration, connections, the HTTP router and CLI tasks.
//! `main.rs` stays thin; everything here is testable in-process.

pub mod api;
pub mod cli;
pub mod config;
pub mod dev;
pub mod media;
pub mod ops;
pub mod security;
pub mod seo;
pub mod session_store;
pub mod startup;
pub mod telemetry;

pub use startup::{AppState, Application, Lifecycle, Stop};

/// The migrations embedded in the binary, run at start and by `server migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
