//! The merchant admin's shapes and rules. They compile to WASM too, so the admin forms
//! check exactly what the server checks.

use crate::options::{
    check_variant_options, parse_attributes, parse_label, parse_options, Attributes, OptionValues,
    ProductOption,
};
use crate::{accounts::FormErrors, AppError, Money, OrderStatus, Sku, Slug};
use serde::{Deserialize, Serialize};

/// One variant as the admin writes it: `{"sku","name","price","stock","stock_was"?}`.
///
/// A new variant needs its opening `stock`. On a variant that exists, stock moves only
/// by compare-and-set: `stock` is written when `stock_was` is the value on hand (409
/// otherwise), and leaving `stock` out, or sending the value on hand, leaves it alone.
/// Sales in between are never overwritten; the inventory adjust action moves it by a delta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariantInput {
    /// The variant's SKU.
    pub sku: String,
    /// The variant's name, e.g. `Blue`.
    pub name: String,
    /// At most 100,000,000 minor units.
    pub price: Money,
    #[serde(default)]
    /// Required for a new variant; on an existing one a compare-and-set against `stock_was`.
    pub stock: Option<i64>,
    /// The stock the editor read, for a compare-and-set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_was: Option<i64>,
    /// Its value for each of the product's options, e.g. `{"Size":"M"}`.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
}

/// `POST /api/admin/products`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductInput {
    /// The product's name.
    pub name: String,
    #[serde(default)]
    /// Made from the name when left out.
    pub slug: Option<String>,
    #[serde(default)]
    /// Plain text, shown on the product page.
    pub description: String,
    /// The category's slug.
    pub category: String,
    #[serde(default = "yes")]
    /// Whether the storefront shows it (default true).
    pub active: bool,
    /// Its option axes, e.g. Size S/M/L; every variant then names one value of each.
    #[serde(default)]
    pub options: Vec<ProductOption>,
    /// Merchant attributes by name, e.g. `{"material":"Cotton"}`, for filtering.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// At least one variant.
    pub variants: Vec<VariantInput>,
}

fn yes() -> bool {
    true
}

/// `PATCH /api/admin/products/{slug}`: any subset of the product's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductPatch {
    #[serde(default)]
    /// A new name.
    pub name: Option<String>,
    #[serde(default)]
    /// A new slug.
    pub slug: Option<String>,
    #[serde(default)]
    /// A new description.
    pub description: Option<String>,
    #[serde(default)]
    /// A new category's slug.
    pub category: Option<String>,
    #[serde(default)]
    /// Shown on the storefront or not.
    pub active: Option<bool>,
    /// Replaces the options; the variants (sent or kept) must fit them.
    #[serde(default)]
    pub options: Option<Vec<ProductOption>>,
    /// Replaces the attributes.
    #[serde(default)]
    pub attributes: Option<std::collections::BTreeMap<String, String>>,
    /// Reorders the gallery and sets its alt texts: every image the product has, by `url`,
    /// in the new order (remove one with `DELETE …/images/{position}`).
    #[serde(default)]
    pub images: Option<Vec<crate::gallery::ImageOrder>>,
    /// Replaces the variant list: SKUs kept are updated, new ones added, missing ones removed.
    #[serde(default)]
    pub variants: Option<Vec<VariantInput>>,
}

/// A product as the admin sees it, archived or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminProduct {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its category's slug.
    pub category: String,
    /// Whether the storefront shows it.
    pub active: bool,
    /// The large image, if one was uploaded.
    pub image_url: Option<String>,
    /// The thumbnail, if one was uploaded.
    pub thumb_url: Option<String>,
    /// Its option axes.
    pub options: Vec<ProductOption>,
    /// Its attributes.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Its gallery in order; the first is the cover (`image_url`).
    pub images: Vec<crate::gallery::ProductImage>,
    /// Its variants with their stock.
    pub variants: Vec<AdminVariant>,
    /// The last change, RFC 3339.
    pub updated_at: String,
}

/// A variant with its stock on hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminVariant {
    /// The SKU.
    pub sku: String,
    /// The variant's name.
    pub name: String,
    /// Its price.
    pub price: Money,
    /// Units on hand.
    pub stock: i64,
    /// Its value for each of the product's options.
    pub options: std::collections::BTreeMap<String, String>,
}

/// A validated variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidVariant {
    /// The SKU.
    pub sku: Sku,
    /// The variant's name.
    pub name: String,
    /// Its price, bounded.
    pub price: Money,
    /// Required when the variant is created; see [`VariantInput`] for an existing one.
    pub stock: Option<i32>,
    /// The stock the editor read, for the compare-and-set.
    pub stock_was: Option<i32>,
    /// Its value for each of the product's options.
    pub options: OptionValues,
}

/// The highest price a variant may carry, in minor units: 1,000,000.00 in a two-decimal
/// currency. Order totals of many such lines still stay far inside `i64`.
pub const MAX_PRICE_MINOR: i64 = 100_000_000;

/// A validated product (all fields present).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidProduct {
    /// The product's name.
    pub name: String,
    /// `None` asks for one generated from the name.
    pub slug: Option<Slug>,
    /// Plain text, shown on the product page.
    pub description: String,
    /// The category's slug.
    pub category: Slug,
    /// Whether the storefront shows it.
    pub active: bool,
    /// Its option axes, which every variant fits.
    pub options: Vec<ProductOption>,
    /// Its attributes.
    pub attributes: Attributes,
    /// At least one variant.
    pub variants: Vec<ValidVariant>,
}

pub(crate) fn text(errors: &mut FormErrors, field: &str, raw: &str, max: usize) -> Option<String> {
    let t = raw.trim();
    let r = if t.is_empty() {
        Err("is required".to_owned())
    } else if t.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(t.to_owned())
    };
    errors.check(field, r)
}

fn stock_value(raw: Option<i64>) -> Result<Option<i32>, &'static str> {
    raw.map(|s| {
        i32::try_from(s)
            .ok()
            .filter(|s| *s >= 0)
            .ok_or("must be a whole number from 0")
    })
    .transpose()
}

/// Checks variants, naming each bad field as `variants[i].field`. `creating` requires
/// every variant's opening stock.
pub fn parse_variants(
    errors: &mut FormErrors,
    variants: &[VariantInput],
    creating: bool,
) -> Vec<ValidVariant> {
    if variants.is_empty() {
        errors.check::<(), _>("variants", Err("at least one variant is required"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let sku = errors.check(&format!("variants[{i}].sku"), Sku::parse(&v.sku));
        if let Some(s) = &sku {
            if !seen.insert(s.as_str().to_owned()) {
                errors.check::<(), _>(&format!("variants[{i}].sku"), Err("is listed twice"));
            }
        }
        let name = text(errors, &format!("variants[{i}].name"), &v.name, 200);
        let price = errors.check(
            &format!("variants[{i}].price"),
            if v.price.amount < 0 {
                Err("must not be negative".to_owned())
            } else if v.price.amount > MAX_PRICE_MINOR {
                Err(format!(
                    "must be at most {}",
                    Money::new(MAX_PRICE_MINOR, v.price.currency)
                ))
            } else {
                Ok(v.price)
            },
        );
        let stock = errors.check(
            &format!("variants[{i}].stock"),
            match stock_value(v.stock) {
                Ok(None) if creating => Err("is required"),
                other => other,
            },
        );
        let stock_was = errors.check(
            &format!("variants[{i}].stock_was"),
            stock_value(v.stock_was),
        );
        let mut options = OptionValues::new();
        for (k, value) in &v.options {
            let field = format!("variants[{i}].options.{k}");
            if let Some(value) = errors.check(&field, parse_label(value)) {
                options.insert(k.trim().to_owned(), value);
            }
        }
        if let (Some(sku), Some(name), Some(price), Some(stock), Some(stock_was)) =
            (sku, name, price, stock, stock_was)
        {
            out.push(ValidVariant {
                sku,
                name,
                price,
                stock,
                stock_was,
                options,
            });
        }
    }
    if let Some(first) = out.first() {
        if out.iter().any(|v| v.price.currency != first.price.currency) {
            errors.check::<(), _>("variants", Err("all variants must share one currency"));
        }
    }
    out
}

impl ProductInput {
    /// Checks every field, collecting all problems (422).
    pub fn parse(&self) -> Result<ValidProduct, AppError> {
        let mut errors = FormErrors::default();
        let name = text(&mut errors, "name", &self.name, 200);
        let slug = match self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => errors.check("slug", Slug::parse(s)).map(Some),
            None => Some(None),
        };
        let description = errors.check(
            "description",
            if self.description.chars().count() > 20_000 {
                Err("must be at most 20000 characters")
            } else {
                Ok(self.description.trim().to_owned())
            },
        );
        let category = errors.check("category", Slug::parse(self.category.trim()));
        let options = parse_options(&mut errors, &self.options);
        let attributes = parse_attributes(&mut errors, &self.attributes);
        let variants = parse_variants(&mut errors, &self.variants, true);
        let chosen: Vec<OptionValues> = variants.iter().map(|v| v.options.clone()).collect();
        check_variant_options(&mut errors, &options, &chosen);
        errors.finish()?;
        match (name, slug, description, category) {
            (Some(name), Some(slug), Some(description), Some(category)) => Ok(ValidProduct {
                name,
                slug,
                description,
                category,
                active: self.active,
                options,
                attributes,
                variants,
            }),
            _ => Err(AppError::internal(
                "product parse",
                "field missing after a clean check",
            )),
        }
    }
}

/// A validated partial product edit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new slug.
    pub slug: Option<Slug>,
    /// A new description.
    pub description: Option<String>,
    /// A new category.
    pub category: Option<Slug>,
    /// Shown on the storefront or not.
    pub active: Option<bool>,
    /// New options; the variants must fit them.
    pub options: Option<Vec<ProductOption>>,
    /// New attributes.
    pub attributes: Option<Attributes>,
    /// The gallery's new order and alt texts.
    pub images: Option<Vec<crate::gallery::ImageOrder>>,
    /// The whole variant list, replacing the old one by SKU.
    pub variants: Option<Vec<ValidVariant>>,
}

impl ProductPatch {
    /// Checks the fields present, collecting all problems (422).
    pub fn parse(&self) -> Result<ProductEdit, AppError> {
        let mut errors = FormErrors::default();
        let name = self
            .name
            .as_deref()
            .map(|n| text(&mut errors, "name", n, 200));
        let slug = self
            .slug
            .as_deref()
            .map(|s| errors.check("slug", Slug::parse(s.trim())));
        let description = self.description.as_deref().map(|d| {
            errors.check(
                "description",
                if d.chars().count() > 20_000 {
                    Err("must be at most 20000 characters")
                } else {
                    Ok(d.trim().to_owned())
                },
            )
        });
        let category = self
            .category
            .as_deref()
            .map(|c| errors.check("category", Slug::parse(c.trim())));
        let options = self
            .options
            .as_deref()
            .map(|o| parse_options(&mut errors, o));
        let attributes = self
            .attributes
            .as_ref()
            .map(|a| parse_attributes(&mut errors, a));
        let images = self
            .images
            .as_deref()
            .map(|i| crate::gallery::parse_image_order(&mut errors, i));
        let variants = self
            .variants
            .as_deref()
            .map(|v| parse_variants(&mut errors, v, false));
        // With both sent, they must fit each other here; with one, the domain checks it
        // against what is stored, by the same rule.
        if let (Some(options), Some(variants)) = (&options, &variants) {
            let chosen: Vec<OptionValues> = variants.iter().map(|v| v.options.clone()).collect();
            check_variant_options(&mut errors, options, &chosen);
        }
        errors.finish()?;
        Ok(ProductEdit {
            name: name.flatten(),
            slug: slug.flatten(),
            description: description.flatten(),
            category: category.flatten(),
            active: self.active,
            options,
            attributes,
            images,
            variants,
        })
    }
}

/// `POST /api/admin/inventory/{sku}/adjust`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockAdjustment {
    /// Units to add (negative to take away).
    pub delta: i64,
    /// Why, for the inventory trail.
    pub reason: String,
}

impl StockAdjustment {
    /// A non-zero delta within ±1,000,000 and a reason of 1–500 characters.
    pub fn parse(&self) -> Result<(i32, String), AppError> {
        let mut errors = FormErrors::default();
        let delta = errors.check(
            "delta",
            i32::try_from(self.delta)
                .ok()
                .filter(|d| *d != 0 && d.abs() <= 1_000_000)
                .ok_or("must be a non-zero whole number up to 1000000"),
        );
        let reason = text(&mut errors, "reason", &self.reason, 500);
        errors.finish()?;
        match (delta, reason) {
            (Some(d), Some(r)) => Ok((d, r)),
            _ => Err(AppError::internal(
                "adjust parse",
                "field missing after a clean check",
            )),
        }
    }
}

/// `POST /api/admin/orders/{id}/ship`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipOrder {
    /// The carrier's tracking number.
    pub tracking_number: String,
}

impl ShipOrder {
    /// 3–100 visible characters.
    pub fn parse(&self) -> Result<String, AppError> {
        let t = self.tracking_number.trim();
        if t.len() < 3 || t.len() > 100 || t.chars().any(char::is_control) {
            return Err(AppError::invalid_field(
                "tracking_number",
                "Enter the carrier's tracking number (3 to 100 characters).",
            ));
        }
        Ok(t.to_owned())
    }
}

/// One past stock change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InventoryChange {
    /// The variant.
    pub sku: String,
    /// Units added (negative: taken away).
    pub delta: i64,
    /// Stock on hand after the change.
    pub stock_after: i64,
    /// Why.
    pub reason: String,
    /// Who, by email.
    pub actor: String,
    /// When, RFC 3339.
    pub at: String,
}

/// An order in the admin's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminOrderSummary {
    /// The order id.
    pub id: crate::OrderId,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// The buyer's email.
    pub email: String,
    /// What was charged.
    pub total: Money,
    /// Units across its lines.
    pub item_count: i64,
    /// When it was placed, RFC 3339.
    pub created_at: String,
    /// Set when a payment needs a person.
    pub review_reason: Option<String>,
}

/// A customer with what they bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSummary {
    /// The user id.
    pub id: crate::UserId,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Whether they hold the admin role.
    pub is_admin: bool,
    /// Orders placed.
    pub orders: i64,
    /// Paid, shipped and delivered orders.
    pub spent: Money,
    /// When they signed up, RFC 3339.
    pub created_at: String,
}

/// One entry of the admin audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// The admin, by email.
    pub actor: String,
    /// What was done, e.g. `product.update`.
    pub action: String,
    /// What it was done to (a slug, a SKU, an order id).
    pub target: String,
    /// The change's details as JSON, or empty.
    pub details: String,
    /// When, RFC 3339.
    pub at: String,
}

/// A feature flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureFlag {
    /// The flag's key.
    pub key: String,
    /// What it turns on.
    pub description: String,
    /// Whether it is on.
    pub enabled: bool,
    /// The admin who last set it.
    pub updated_by: Option<String>,
}

/// Revenue and orders over one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodFigures {
    /// The period, e.g. `Last 7 days`.
    pub label: String,
    /// Orders placed in it.
    pub orders: i64,
    /// Of those, the ones paid for.
    pub paid_orders: i64,
    /// What the paid ones brought in.
    pub revenue: Money,
}

/// The dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Today, the last 7 and the last 30 days.
    pub periods: Vec<PeriodFigures>,
    /// Orders placed → paid → shipped over the last 30 days.
    pub funnel: Vec<(String, i64)>,
    /// SKU, product name, stock.
    pub low_stock: Vec<(String, String, i64)>,
    /// The latest orders.
    pub recent: Vec<AdminOrderSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn variant(sku: &str, price: i64, stock: i64) -> VariantInput {
        VariantInput {
            sku: sku.to_owned(),
            name: "Standard".to_owned(),
            price: Money::new(price, Currency::USD),
            stock: Some(stock),
            stock_was: None,
            options: Default::default(),
        }
    }

    #[test]
    fn prices_are_bounded_and_new_variants_need_their_stock() {
        let mut no_stock = variant("MUG-1", 100, 0);
        no_stock.stock = None;
        let input = ProductInput {
            name: "Mug".to_owned(),
            category: "kitchen".to_owned(),
            variants: vec![variant("MUG-2", MAX_PRICE_MINOR + 1, 1), no_stock.clone()],
            ..Default::default()
        };
        let fields = input
            .parse()
            .expect_err("invalid")
            .fields()
            .cloned()
            .unwrap_or_default();
        assert!(fields.contains_key("variants[0].price"), "{fields:?}");
        assert!(fields.contains_key("variants[1].stock"), "{fields:?}");
        // An edit may leave an existing variant's stock out: it stays as it is.
        let patch = ProductPatch {
            variants: Some(vec![no_stock, variant("MUG-3", MAX_PRICE_MINOR, 1)]),
            ..Default::default()
        };
        let edit = patch.parse().expect("valid");
        assert_eq!(edit.variants.map(|v| v[0].stock), Some(None));
    }

    #[test]
    fn a_product_reports_every_bad_field_at_once() {
        let input = ProductInput {
            name: " ".to_owned(),
            slug: Some("Not A Slug".to_owned()),
            category: "".to_owned(),
            variants: vec![variant("ok-1", -5, -1), variant("OK-1", 100, 1)],
            ..Default::default()
        };
        let err = input.parse().expect_err("invalid");
        let fields = err.fields().cloned().unwrap_or_default();
        for f in [
            "name",
            "slug",
            "category",
            "variants[0].price",
            "variants[0].stock",
            "variants[1].sku",
        ] {
            assert!(fields.contains_key(f), "{f} missing in {fields:?}");
        }
    }

    #[test]
    fn a_good_product_parses_with_normalized_skus() {
        let input = ProductInput {
            name: "Tea Mug".to_owned(),
            category: "kitchen".to_owned(),
            active: true,
            variants: vec![variant("tea-mug", 1200, 3)],
            ..Default::default()
        };
        let p = input.parse().expect("valid");
        assert_eq!(p.variants[0].sku.as_str(), "TEA-MUG");
        assert_eq!(p.slug, None);
    }

    #[test]
    fn stock_adjustments_need_a_delta_and_a_reason() {
        assert!(StockAdjustment {
            delta: 0,
            reason: "x".into()
        }
        .parse()
        .is_err());
        assert!(StockAdjustment {
            delta: 5,
            reason: " ".into()
        }
        .parse()
        .is_err());
        assert_eq!(
            StockAdjustment {
                delta: -2,
                reason: " damaged ".into()
            }
            .parse()
            .expect("ok"),
            (-2, "damaged".to_owned())
        );
    }

    #[test]
    fn tracking_numbers_are_trimmed_and_bounded() {
        assert_eq!(
            ShipOrder {
                tracking_number: " 1Z999 ".into()
            }
            .parse()
            .expect("ok"),
            "1Z999"
        );
        assert!(ShipOrder {
            tracking_number: "x".into()
        }
        .parse()
        .is_err());
    }
}

/// The merchant's product list filter, as sent: `?q=&category=&status=active|archived|all`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ProductFilter {
    /// Text in the name, slug or a SKU.
    pub q: Option<String>,
    /// A category slug.
    pub category: Option<String>,
    /// `active`, `archived` or `all` (the default).
    pub status: Option<String>,
}

/// The merchant's order list filter, as sent: `?status=&from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OrderFilter {
    /// An order status.
    pub status: Option<String>,
    /// The first day, inclusive.
    pub from: Option<String>,
    /// The last day, inclusive.
    pub to: Option<String>,
}
