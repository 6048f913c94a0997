//! Orders: the confirmation page, order history and order detail.

mod api;
mod pages;

pub use pages::{CheckoutCancelledPage, CheckoutSuccessPage, OrderPage, OrdersPage};
