//! The cart: the cart page, the add-to-cart form and the header badge.

mod api;
mod discount;
mod pages;

#[cfg(feature = "ssr")]
pub(crate) use api::cart_of;
pub use api::{add_to_cart, get_cart, AddToCart};
pub use discount::{DiscountCode, DiscountLines, LineDiscount};
pub use pages::{cart_version, AddToCartForm, CartBadge, CartPage, CartVersion};
