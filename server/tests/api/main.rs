//! The integration tests, one binary: each module drives the real server against a fresh
//! database (`sqlx::test`) and the local Redis. `common` holds the arrange steps they share.

mod common;

mod accounts;
mod admin;
mod catalog_api;
mod categories;
mod checkout;
mod collections;
mod events;
mod gallery;
mod listing;
mod media_s3;
mod merchandising;
mod ops;
mod pages;
mod payments;
mod promotions;
mod redis_tls;
mod relay;
mod replicas;
mod seo;
mod tracing;
