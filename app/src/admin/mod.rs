//! The merchant admin under `/admin`: dashboard, products and media, inventory, orders,
//! customers, categories, collections, discount codes, the audit log and feature flags. Every page and server function requires
//! the admin role.

mod api;
mod categories;
mod collections;
mod gallery;
mod options;
mod pages;
mod promotions;

pub use categories::{AdminCategoriesPage, AdminCategoryPage};
pub use collections::{AdminCollectionPage, AdminCollectionsPage};
pub use pages::{
    AdminAuditPage, AdminCustomersPage, AdminDashboardPage, AdminFlagsPage, AdminNewProductPage,
    AdminOrderPage, AdminOrdersPage, AdminProductPage, AdminProductsPage,
};
pub use promotions::{AdminPromotionPage, AdminPromotionsPage};
