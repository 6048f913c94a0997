//! Admin server functions: each one authorizes (`require_admin`), calls the domain, and
//! maps errors. Forms post here with or without JavaScript.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::admin::{
    AdminOrderSummary, AdminProduct, AuditEntry, CustomerSummary, Dashboard, FeatureFlag,
    InventoryChange,
};
use types::{AppError, CategorySummary, Order};

#[cfg(feature = "ssr")]
use crate::ssr::{auth, redirect_plain_form, respond, services};

/// One variant row of the product form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantForm {
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub name: String,
    /// Major units, e.g. `12.50`.
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub stock: String,
    /// The stock shown when the form was loaded (hidden), for the compare-and-set.
    #[serde(default)]
    pub stock_was: String,
    /// Its option values as `Size: M; Color: Red`.
    #[serde(default)]
    pub options: String,
}

/// The product form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub active: Option<String>,
    /// One option per line: `Size: S, M, L`.
    #[serde(default)]
    pub options: String,
    /// One attribute per line: `material: Cotton`.
    #[serde(default)]
    pub attributes: String,
    #[serde(default)]
    pub variants: Vec<VariantForm>,
}

// Only the server function reads the form; the browser posts it as typed.
#[cfg(feature = "ssr")]
impl ProductForm {
    /// The contract's product input; blank variant rows are left out, and a price that
    /// is not a price is reported on its row.
    pub fn to_input(&self) -> Result<types::admin::ProductInput, AppError> {
        use types::options::{options_from_lines, pairs_from_lines};
        let mut errors = types::accounts::FormErrors::default();
        let mut variants = Vec::new();
        for (i, v) in self.variants.iter().enumerate() {
            if [&v.sku, &v.name, &v.price, &v.stock]
                .iter()
                .all(|f| f.trim().is_empty())
            {
                continue;
            }
            let price = errors.check(
                &format!("variants[{i}].price"),
                types::Money::parse_major(&v.price, types::Currency::USD),
            );
            let whole = |field: &str, raw: &str| {
                let raw = raw.trim();
                (!raw.is_empty())
                    .then(|| raw.parse::<i64>().map_err(|_| "enter a whole number"))
                    .transpose()
                    .map_err(|e| (format!("variants[{i}].{field}"), e))
            };
            let stock =
                whole("stock", &v.stock).map_err(|(f, e)| errors.check::<(), _>(&f, Err(e)));
            let stock_was = whole("stock_was", &v.stock_was)
                .map_err(|(f, e)| errors.check::<(), _>(&f, Err(e)));
            let options =
                pairs_from_lines(&mut errors, &format!("variants[{i}].options"), &v.options);
            if let (Some(price), Ok(stock), Ok(stock_was)) = (price, stock, stock_was) {
                variants.push(types::admin::VariantInput {
                    sku: v.sku.clone(),
                    name: v.name.clone(),
                    price,
                    stock,
                    stock_was,
                    options,
                });
            }
        }
        let options = options_from_lines(&mut errors, &self.options);
        let attributes = pairs_from_lines(&mut errors, "attributes", &self.attributes);
        errors.finish()?;
        Ok(types::admin::ProductInput {
            name: self.name.clone(),
            slug: Some(self.slug.clone()).filter(|s| !s.trim().is_empty()),
            description: self.description.clone(),
            category: self.category.clone(),
            active: self.active.is_some(),
            options,
            attributes,
            variants,
        })
    }
}

/// The dashboard's figures.
#[server(prefix = "/rpc", endpoint = "admin/dashboard")]
pub async fn admin_dashboard() -> Result<Dashboard, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.admin.dashboard().await
    }
    .await;
    respond(result)
}

/// The product list and the categories to filter by.
#[server(prefix = "/rpc", endpoint = "admin/products")]
pub async fn admin_products(
    q: Option<String>,
    category: Option<String>,
    status: Option<String>,
) -> Result<(Vec<AdminProduct>, Vec<CategorySummary>), AppError> {
    let result = async {
        auth::require_admin().await?;
        let s = services()?;
        let filter = types::admin::ProductFilter {
            q,
            category,
            status,
        };
        let list = s.catalog.admin_products(&filter).await?;
        Ok((list, s.catalog.categories().await?.as_ref().clone()))
    }
    .await;
    respond(result)
}

/// One product with its stock history, and the categories for the form.
#[server(prefix = "/rpc", endpoint = "admin/product")]
pub async fn admin_product_detail(
    slug: String,
) -> Result<(AdminProduct, Vec<InventoryChange>, Vec<CategorySummary>), AppError> {
    let result = async {
        auth::require_admin().await?;
        let s = services()?;
        let (product, history) = s.catalog.admin_product_page(&slug).await?;
        Ok((
            product,
            history,
            s.catalog.categories().await?.as_ref().clone(),
        ))
    }
    .await;
    respond(result)
}

/// The categories, for the new-product form.
#[server(prefix = "/rpc", endpoint = "admin/categories")]
pub async fn admin_categories() -> Result<Vec<CategorySummary>, AppError> {
    let result = async {
        auth::require_admin().await?;
        Ok(services()?.catalog.categories().await?.as_ref().clone())
    }
    .await;
    respond(result)
}

/// Creates a product (`original_slug` empty) or edits one; answers the saved product.
#[server(prefix = "/rpc", endpoint = "admin/products/save")]
pub async fn save_product(
    original_slug: String,
    form: ProductForm,
) -> Result<AdminProduct, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let s = services()?;
        let input = form.to_input()?;
        let saved = if original_slug.is_empty() {
            s.catalog.create_product(&actor, &input.parse()?).await?
        } else {
            let patch = types::admin::ProductPatch {
                name: Some(input.name),
                slug: input.slug,
                description: Some(input.description),
                category: Some(input.category),
                active: Some(input.active),
                options: Some(input.options),
                attributes: Some(input.attributes),
                images: None,
                variants: Some(input.variants),
            };
            s.catalog
                .update_product(&actor, &original_slug, &patch.parse()?)
                .await?
        };
        redirect_plain_form(&format!("/admin/products/{}?saved=1", saved.slug));
        Ok(saved)
    }
    .await;
    respond(result)
}

/// One image row of the gallery form, as typed: its `url`, alt text and 1-based place.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryRow {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub alt: String,
    #[serde(default)]
    pub place: String,
}

/// Saves the gallery's order and alt texts: rows go in the order of their places (a blank
/// or unreadable place keeps the row where it was), then the product edit checks them.
#[server(prefix = "/rpc", endpoint = "admin/products/gallery")]
pub async fn save_gallery(slug: String, images: Vec<GalleryRow>) -> Result<AdminProduct, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let mut rows: Vec<(usize, GalleryRow)> = images
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let place = r
                    .place
                    .trim()
                    .parse::<usize>()
                    .map_or(i, |p| p.saturating_sub(1));
                (place, r)
            })
            .collect();
        rows.sort_by_key(|(place, _)| *place);
        let patch = types::admin::ProductPatch {
            images: Some(
                rows.into_iter()
                    .map(|(_, r)| types::gallery::ImageOrder {
                        url: r.url,
                        alt: r.alt,
                    })
                    .collect(),
            ),
            ..Default::default()
        };
        let saved = services()?
            .catalog
            .update_product(&actor, &slug, &patch.parse()?)
            .await?;
        redirect_plain_form(&format!("/admin/products/{}?saved=1", saved.slug));
        Ok(saved)
    }
    .await;
    respond(result)
}

/// Archives a product: it leaves the storefront; orders keep their lines.
#[server(prefix = "/rpc", endpoint = "admin/products/archive")]
pub async fn archive_product(slug: String) -> Result<(), AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        services()?.catalog.archive_product(&actor, &slug).await?;
        redirect_plain_form(&format!("/admin/products/{slug}"));
        Ok(())
    }
    .await;
    respond(result)
}

/// Adjusts one SKU's stock with a reason.
#[server(prefix = "/rpc", endpoint = "admin/inventory/adjust")]
pub async fn adjust_stock(
    slug: String,
    sku: String,
    delta: String,
    reason: String,
) -> Result<i64, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let delta = delta
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::invalid_field("delta", "Enter a whole number, e.g. 5 or -2."))?;
        let (delta, reason) = types::admin::StockAdjustment { delta, reason }.parse()?;
        let stock = services()?
            .catalog
            .adjust_stock(&actor, &sku, delta, &reason)
            .await?;
        redirect_plain_form(&format!("/admin/products/{slug}"));
        Ok(stock)
    }
    .await;
    respond(result)
}

/// Orders by status and date.
#[server(prefix = "/rpc", endpoint = "admin/orders")]
pub async fn admin_orders(
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<Vec<AdminOrderSummary>, AppError> {
    let result = async {
        auth::require_admin().await?;
        let filter = types::admin::OrderFilter { status, from, to };
        services()?.orders.list_matching(&filter).await
    }
    .await;
    respond(result)
}

/// One order, its review flag and its status history.
#[server(prefix = "/rpc", endpoint = "admin/order")]
pub async fn admin_order(
    id: String,
) -> Result<(Order, Option<String>, Vec<(String, String, String)>), AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.orders.detail(&id).await
    }
    .await;
    respond(result)
}

/// Ships an order with a tracking number.
#[server(prefix = "/rpc", endpoint = "admin/orders/ship")]
pub async fn ship_order(id: String, tracking_number: String) -> Result<Order, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let tracking = types::admin::ShipOrder { tracking_number }.parse()?;
        let order = services()?.orders.ship(&actor, &id, &tracking).await?;
        redirect_plain_form(&format!("/admin/orders/{id}"));
        Ok(order)
    }
    .await;
    respond(result)
}

/// Moves an order on: `deliver`, `cancel` or `refund`.
#[server(prefix = "/rpc", endpoint = "admin/orders/act")]
pub async fn order_action(id: String, action: String) -> Result<Order, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let s = services()?;
        let order = match action.as_str() {
            "deliver" => s.orders.deliver(&actor, &id).await?,
            // A refund the provider has not confirmed yet finishes by itself; the order
            // page shows it moving on once it does.
            "cancel" => s.payments.cancel_order(&s.orders, &actor, &id).await?.order,
            "refund" => {
                s.payments
                    .refund_in_full(&s.orders, &actor, &id)
                    .await?
                    .order
            }
            _ => return Err(AppError::BadRequest(format!("unknown action `{action}`"))),
        };
        redirect_plain_form(&format!("/admin/orders/{id}"));
        Ok(order)
    }
    .await;
    respond(result)
}

/// Customers with their orders and spend.
#[server(prefix = "/rpc", endpoint = "admin/customers")]
pub async fn admin_customers(q: Option<String>) -> Result<Vec<CustomerSummary>, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.accounts.customers(q.as_deref()).await
    }
    .await;
    respond(result)
}

/// Grants (`admin = "true"`) or revokes the admin role.
#[server(prefix = "/rpc", endpoint = "admin/customers/role")]
pub async fn set_admin(user_id: String, admin: String) -> Result<(), AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        services()?
            .accounts
            .set_admin(&actor, &user_id, admin == "true")
            .await?;
        redirect_plain_form("/admin/customers");
        Ok(())
    }
    .await;
    respond(result)
}

/// The latest admin actions.
#[server(prefix = "/rpc", endpoint = "admin/audit")]
pub async fn audit_log() -> Result<Vec<AuditEntry>, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.admin.audit_log(200).await
    }
    .await;
    respond(result)
}

/// Every feature flag.
#[server(prefix = "/rpc", endpoint = "admin/flags")]
pub async fn feature_flags() -> Result<Vec<FeatureFlag>, AppError> {
    let result = async {
        auth::require_admin().await?;
        Ok(services()?.flags.all().await?.as_ref().clone())
    }
    .await;
    respond(result)
}

/// Turns a flag on (`enabled = "true"`) or off.
#[server(prefix = "/rpc", endpoint = "admin/flags/set")]
pub async fn set_flag(key: String, enabled: String) -> Result<(), AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        services()?
            .flags
            .set(&actor, &key, enabled == "true")
            .await?;
        redirect_plain_form("/admin/flags");
        Ok(())
    }
    .await;
    respond(result)
}
