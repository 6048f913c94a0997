//! Checkout: shipping details, method, the order summary and placing the order.

mod api;
mod pages;

pub use pages::CheckoutPage;
