//! Bazaar's business logic and SQL, one module per service of the original design.
//! Server-only and free of Leptos: the web layer calls in, maps errors, and renders.

pub mod cache;
pub mod catalog;
pub mod media;
pub mod seed;

use sqlx::PgPool;
use std::time::Duration;

pub use catalog::Catalog;

/// The domain services, cheap to clone; the web layer puts one in every request's context.
#[derive(Clone)]
pub struct Services {
    /// The Postgres pool every service shares.
    pub db: PgPool,
    /// Products and categories.
    pub catalog: Catalog,
}

impl Services {
    /// Builds every service on one pool. `catalog_ttl` of zero turns the catalog cache off.
    pub fn new(db: PgPool, catalog_ttl: Duration) -> Self {
        Services {
            catalog: Catalog::new(db.clone(), catalog_ttl),
            db,
        }
    }
}
