//! The catalog: home, category listings, search and product pages.

mod api;
mod filters;
mod gallery;
mod pages;
mod picker;
mod views;

pub use api::{
    get_collection, get_home, get_listing, get_product, CollectionListing, Home, Listing,
    ProductScreen,
};
pub use pages::{CategoryPage, CollectionPage, HomePage, ProductPage, SearchPage};
