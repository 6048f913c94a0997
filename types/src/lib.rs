//! Shared Bazaar types: domain newtypes that parse rather than validate, the data
//! transfer objects of the public contract, and the one application error type.
//!
//! Everything here compiles to WASM as well, so browser forms apply exactly the same
//! rules as the server.

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod error;
pub mod money;
pub mod newtypes;
pub mod orders;

pub use accounts::{
    Address, Credentials, NewUser, Password, PersonName, Role, SignupRequest, TokenResponse, User,
};
pub use catalog::{
    url_encode, CategorySummary, ProductDetail, ProductPage, ProductQuery, ProductSummary,
    RawProductQuery, Sort, Variant,
};
pub use error::{AppError, FieldErrors};
pub use money::{Currency, Money};
pub use newtypes::{Email, ParseError, Quantity, Sku, Slug};
pub use orders::{
    AddToCart, Cart, CartLine, CheckoutRequest, CheckoutResponse, Order, OrderLine, OrderStatus,
    SetQuantity, ShippingMethod,
};
