//! The shape of the catalog the merchant curates: the category tree and collections.
//! Inputs parse into edits here, collecting every field problem (422), in the browser and
//! on the server alike.

use crate::admin::text;
use crate::{accounts::FormErrors, AppError, Slug};
use serde::{Deserialize, Serialize};

/// A collection as the merchant sees it: its products in order, archived ones too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminCollection {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Plain text, shown on the collection's page.
    pub description: String,
    /// The products' slugs, in the order the page shows them.
    pub products: Vec<String>,
}

/// `POST /api/admin/collections`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollectionInput {
    /// The collection's name.
    pub name: String,
    #[serde(default)]
    /// Made from the name when left out.
    pub slug: Option<String>,
    #[serde(default)]
    /// Plain text, shown on the collection's page.
    pub description: String,
    #[serde(default)]
    /// Product slugs, in display order.
    pub products: Vec<String>,
}

/// `PATCH /api/admin/collections/{slug}`: any subset of the fields; `products` replaces
/// the whole list and its order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollectionPatch {
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
    /// The new product list, in display order.
    pub products: Option<Vec<String>>,
}

/// A validated collection change: for a new one, `name` is always set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectionEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new slug (`None` on create asks for one made from the name).
    pub slug: Option<Slug>,
    /// A new description.
    pub description: Option<String>,
    /// The new product list, in order, without repeats.
    pub products: Option<Vec<Slug>>,
}

/// The longest category or collection description (the migrations' CHECK).
const MAX_DESCRIPTION: usize = 5_000;
/// The most products one collection may hold.
pub const MAX_COLLECTION_PRODUCTS: usize = 1_000;

/// A category's or collection's description, trimmed, at most [`MAX_DESCRIPTION`] characters.
fn description(errors: &mut FormErrors, raw: &str) -> Option<String> {
    errors.check(
        "description",
        if raw.chars().count() > MAX_DESCRIPTION {
            Err(format!("must be at most {MAX_DESCRIPTION} characters"))
        } else {
            Ok(raw.trim().to_owned())
        },
    )
}

fn collection_products(errors: &mut FormErrors, raw: &[String]) -> Vec<Slug> {
    if raw.len() > MAX_COLLECTION_PRODUCTS {
        errors.check::<(), _>(
            "products",
            Err(format!(
                "may hold at most {MAX_COLLECTION_PRODUCTS} products"
            )),
        );
        return Vec::new();
    }
    let mut out: Vec<Slug> = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let field = format!("products[{i}]");
        if let Some(slug) = errors.check(&field, Slug::parse(s.trim())) {
            if out.contains(&slug) {
                errors.check::<(), _>(&field, Err("is listed twice"));
            } else {
                out.push(slug);
            }
        }
    }
    out
}

impl CollectionInput {
    /// Checks every field, collecting all problems (422).
    pub fn parse(&self) -> Result<CollectionEdit, AppError> {
        let mut errors = FormErrors::default();
        let name = text(&mut errors, "name", &self.name, 200);
        let slug = match self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => errors.check("slug", Slug::parse(s)),
            None => None,
        };
        let description = description(&mut errors, &self.description);
        let products = collection_products(&mut errors, &self.products);
        errors.finish()?;
        Ok(CollectionEdit {
            name,
            slug,
            description,
            products: Some(products),
        })
    }
}

impl CollectionPatch {
    /// Checks the fields present, collecting all problems (422).
    pub fn parse(&self) -> Result<CollectionEdit, AppError> {
        let mut errors = FormErrors::default();
        let name = self
            .name
            .as_deref()
            .map(|n| text(&mut errors, "name", n, 200));
        let slug = self
            .slug
            .as_deref()
            .map(|s| errors.check("slug", Slug::parse(s.trim())));
        let description = self
            .description
            .as_deref()
            .map(|d| description(&mut errors, d));
        let products = self
            .products
            .as_deref()
            .map(|p| collection_products(&mut errors, p));
        errors.finish()?;
        Ok(CollectionEdit {
            name: name.flatten(),
            slug: slug.flatten(),
            description: description.flatten(),
            products,
        })
    }
}

#[cfg(test)]
mod collection_tests {
    use super::*;

    #[test]
    fn a_collection_needs_a_name_and_distinct_valid_products() {
        let err = CollectionInput {
            name: " ".into(),
            products: vec!["mug".into(), "Not A Slug".into(), "mug".into()],
            ..Default::default()
        }
        .parse()
        .expect_err("invalid");
        let fields = err.fields().expect("field errors");
        assert!(fields.contains_key("name"));
        assert!(fields.contains_key("products[1]"));
        assert!(fields.contains_key("products[2]"), "a repeat is named");
        assert!(!fields.contains_key("products[0]"));
    }

    #[test]
    fn a_patch_checks_only_what_it_carries() {
        let edit = CollectionPatch {
            products: Some(vec!["b".into(), "a".into()]),
            ..Default::default()
        }
        .parse()
        .expect("valid");
        assert_eq!(edit.name, None);
        let order: Vec<_> = edit
            .products
            .expect("set")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(order, ["b", "a"]);
    }
}

/// A category as the merchant edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminCategory {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Plain text, shown on its page.
    pub description: String,
    /// The parent's slug; `null` at the top.
    pub parent: Option<String>,
    /// Its place among its siblings (lower first).
    pub position: i32,
}

/// `POST /api/admin/categories`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryInput {
    /// The category's name.
    pub name: String,
    #[serde(default)]
    /// Made from the name when left out.
    pub slug: Option<String>,
    #[serde(default)]
    /// The parent's slug; left out or `null` for a top-level category.
    pub parent: Option<String>,
    #[serde(default)]
    /// Plain text, shown on its page.
    pub description: String,
    #[serde(default)]
    /// Its place among its siblings (lower first).
    pub position: Option<i32>,
}

/// Present-but-null stays distinguishable from missing: `Some(None)` moves to the top.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /api/admin/categories/{slug}`: any subset; `"parent": null` moves it to the top.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryPatch {
    #[serde(default)]
    /// A new name.
    pub name: Option<String>,
    #[serde(default)]
    /// A new slug.
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    /// A new parent's slug, or `null` for the top level.
    pub parent: Option<Option<String>>,
    #[serde(default)]
    /// A new description.
    pub description: Option<String>,
    #[serde(default)]
    /// A new place among its siblings.
    pub position: Option<i32>,
}

/// A validated category change; on create, `name` is always set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategoryEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new slug (`None` on create asks for one made from the name).
    pub slug: Option<Slug>,
    /// `Some(None)`: to the top; `Some(Some(p))`: under `p`; `None`: unchanged.
    pub parent: Option<Option<Slug>>,
    /// A new description.
    pub description: Option<String>,
    /// A new position.
    pub position: Option<i32>,
}

fn parent_slug(errors: &mut FormErrors, raw: Option<&str>) -> Option<Option<Slug>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(s) => errors.check("parent", Slug::parse(s)).map(Some),
    }
}

impl CategoryInput {
    /// Checks every field, collecting all problems (422).
    pub fn parse(&self) -> Result<CategoryEdit, AppError> {
        let mut errors = FormErrors::default();
        let name = text(&mut errors, "name", &self.name, 200);
        let slug = match self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => errors.check("slug", Slug::parse(s)),
            None => None,
        };
        let parent = parent_slug(&mut errors, self.parent.as_deref());
        let description = description(&mut errors, &self.description);
        errors.finish()?;
        Ok(CategoryEdit {
            name,
            slug,
            parent,
            description,
            position: self.position,
        })
    }
}

impl CategoryPatch {
    /// Checks the fields present, collecting all problems (422).
    pub fn parse(&self) -> Result<CategoryEdit, AppError> {
        let mut errors = FormErrors::default();
        let name = self
            .name
            .as_deref()
            .map(|n| text(&mut errors, "name", n, 200));
        let slug = self
            .slug
            .as_deref()
            .map(|s| errors.check("slug", Slug::parse(s.trim())));
        let parent = self
            .parent
            .as_ref()
            .map(|p| parent_slug(&mut errors, p.as_deref()));
        let description = self
            .description
            .as_deref()
            .map(|d| description(&mut errors, d));
        errors.finish()?;
        Ok(CategoryEdit {
            name: name.flatten(),
            slug: slug.flatten(),
            parent: parent.flatten(),
            description: description.flatten(),
            position: self.position,
        })
    }
}

#[cfg(test)]
mod category_tests {
    use super::*;

    #[test]
    fn a_null_parent_moves_to_the_top_and_a_missing_one_keeps_it() {
        let to_top: CategoryPatch = serde_json::from_str(r#"{"parent": null}"#).expect("json");
        assert_eq!(to_top.parse().expect("valid").parent, Some(None));
        let kept: CategoryPatch = serde_json::from_str(r#"{"name": "X"}"#).expect("json");
        assert_eq!(kept.parse().expect("valid").parent, None);
        let under: CategoryPatch = serde_json::from_str(r#"{"parent": "apparel"}"#).expect("json");
        assert_eq!(
            under
                .parse()
                .expect("valid")
                .parent
                .flatten()
                .map(|s| s.to_string())
                .as_deref(),
            Some("apparel")
        );
        let bad: CategoryPatch = serde_json::from_str(r#"{"parent": "Not A Slug"}"#).expect("json");
        assert!(bad
            .parse()
            .expect_err("invalid")
            .fields()
            .expect("fields")
            .contains_key("parent"));
    }
}
