//! The merchant admin under `/admin`: dashboard, products and media, inventory, orders,
//! customers, the audit log and feature flags. Every page and server function requires
//! the admin role.

mod api;
mod pages;

pub use pages::{
    AdminAuditPage, AdminCustomersPage, AdminDashboardPage, AdminFlagsPage, AdminNewProductPage,
    AdminOrderPage, AdminOrdersPage, AdminProductPage, AdminProductsPage,
};
