//! The cart: the cart page, the add-to-cart form and the header badge.

mod api;
mod pages;

pub use api::{add_to_cart, get_cart, AddToCart};
pub use pages::{AddToCartForm, CartBadge, CartPage, CartVersion};
