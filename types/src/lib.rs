#![warn(missing_docs)]
//! Shared Bazaar types: domain newtypes that parse rather than validate, the data
//! transfer objects of the public contract, and the one application error type.
//!
//! Everything here compiles to WASM as well, so browser forms apply exactly the same
//! rules as the server.

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod error;
pub mod facets;
pub mod gallery;
pub mod money;
pub mod newtypes;
pub mod options;
pub mod orders;
pub mod promotions;
pub mod seo;
pub mod taxonomy;

pub use accounts::{
    Address, Credentials, NewUser, Password, PersonName, Role, SignupRequest, TokenResponse, User,
};
pub use catalog::{
    url_encode, CategorySummary, CollectionSummary, ProductDetail, ProductPage, ProductQuery,
    ProductSummary, RawProductQuery, Sort, Variant,
};
pub use error::{AppError, FieldErrors};
pub use money::{Currency, Money};
pub use newtypes::{Email, OrderId, ParseError, Quantity, Sku, Slug, UserId};
pub use orders::{
    too_large, AddToCart, Cart, CartItem, CartLine, CheckoutRequest, CheckoutResponse,
    CheckoutSummary, IdempotencyKey, Order, OrderLine, OrderStatus, SetQuantity, ShippingMethod,
};

/// A string schema with a description, for the types that travel as strings.
#[cfg(feature = "openapi")]
fn string_schema(description: &str) -> utoipa::openapi::ObjectBuilder {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(description))
}
