//! The catalog: home, category listings, search and product pages.

mod api;
mod pages;
mod views;

pub use api::{get_home, get_listing, get_product, Home, Listing, ProductScreen};
pub use pages::{CategoryPage, HomePage, ProductPage, SearchPage};
