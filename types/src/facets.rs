//! Listing filters (price range, stock, attribute and option values) and the facet counts
//! a listing answers with.

use crate::options::parse_label as label;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The most values one listing may filter by, across every attribute and option.
pub const MAX_FILTER_VALUES: usize = 50;

/// The filter parameters as they arrived: `attr.<name>` and `option.<name>` pairs in
/// order, as the query string repeats them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RawFilters {
    /// `attr.<name>=<value>` pairs, as (name, value).
    #[serde(default)]
    pub attrs: Vec<(String, String)>,
    /// `option.<name>=<value>` pairs, as (name, value).
    #[serde(default)]
    pub options: Vec<(String, String)>,
}

/// Validated listing filters. Values of one name are alternatives (OR); names, the price
/// range and stock all apply together (AND).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListingFilters {
    /// The lowest variant price, in minor units, inclusive.
    pub price_min: Option<i64>,
    /// The highest variant price, in minor units, inclusive.
    pub price_max: Option<i64>,
    /// Only products with something available.
    pub in_stock: bool,
    /// Attribute values by attribute name.
    pub attributes: BTreeMap<String, BTreeSet<String>>,
    /// Option values by option name; one variant must match every name.
    pub options: BTreeMap<String, BTreeSet<String>>,
}

impl ListingFilters {
    /// Whether nothing narrows the listing.
    pub fn is_empty(&self) -> bool {
        self.price_min.is_none()
            && self.price_max.is_none()
            && !self.in_stock
            && self.attributes.is_empty()
            && self.options.is_empty()
    }

    /// Checks the raw filter parameters, reporting each bad one to `bad` by its query
    /// name (`price_min`, `attr.material`, ...).
    pub fn parse(
        price_min: Option<&str>,
        price_max: Option<&str>,
        in_stock: Option<&str>,
        raw: &RawFilters,
        bad: &mut dyn FnMut(&str, String),
    ) -> ListingFilters {
        let mut price =
            |field: &str, raw: Option<&str>| match raw.map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => match s.parse::<i64>() {
                    Ok(n) if (0..=crate::admin::MAX_PRICE_MINOR).contains(&n) => Some(n),
                    _ => {
                        bad(
                            field,
                            format!(
                                "must be a whole number of minor units from 0 to {}",
                                crate::admin::MAX_PRICE_MINOR
                            ),
                        );
                        None
                    }
                },
            };
        let price_min = price("price_min", price_min);
        let price_max = price("price_max", price_max);
        if let (Some(lo), Some(hi)) = (price_min, price_max) {
            if lo > hi {
                bad("price_max", "must not be below price_min".to_owned());
            }
        }
        let in_stock = match in_stock.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                bad("in_stock", "must be true or false".to_owned());
                false
            }
        };
        let mut count = 0;
        let mut group = |prefix: &str, pairs: &[(String, String)]| {
            let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (name, value) in pairs {
                let field = format!("{prefix}.{name}");
                let value = value.trim();
                if value.is_empty() {
                    // An empty choice ("any") in a filter form is no filter.
                    continue;
                }
                match (label(name), label(value)) {
                    (Ok(name), Ok(value)) => {
                        count += 1;
                        out.entry(name).or_default().insert(value);
                    }
                    (Err(e), _) | (_, Err(e)) => bad(&field, e),
                }
            }
            out
        };
        let attributes = group("attr", &raw.attrs);
        let options = group("option", &raw.options);
        if count > MAX_FILTER_VALUES {
            bad(
                "attr",
                format!("at most {MAX_FILTER_VALUES} filter values are allowed"),
            );
        }
        ListingFilters {
            price_min: price_min.filter(|lo| price_max.is_none_or(|hi| *lo <= hi)),
            price_max,
            in_stock,
            attributes,
            options,
        }
    }

    /// The filters as query-string pairs, in a stable order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, values) in &self.attributes {
            out.extend(values.iter().map(|v| (format!("attr.{name}"), v.clone())));
        }
        for (name, values) in &self.options {
            out.extend(values.iter().map(|v| (format!("option.{name}"), v.clone())));
        }
        if let Some(lo) = self.price_min {
            out.push(("price_min".to_owned(), lo.to_string()));
        }
        if let Some(hi) = self.price_max {
            out.push(("price_max".to_owned(), hi.to_string()));
        }
        if self.in_stock {
            out.push(("in_stock".to_owned(), "true".to_owned()));
        }
        out
    }

    /// These filters with `value` of attribute (`attr`) or option (`option`) `name`
    /// switched on or off: the link a facet value leads to.
    pub fn toggled(&self, kind: FacetKind, name: &str, value: &str) -> ListingFilters {
        let mut next = self.clone();
        let group = match kind {
            FacetKind::Attribute => &mut next.attributes,
            FacetKind::Option => &mut next.options,
        };
        let values = group.entry(name.to_owned()).or_default();
        if !values.remove(value) {
            values.insert(value.to_owned());
        }
        if values.is_empty() {
            group.remove(name);
        }
        next
    }

    /// Whether `value` of `name` is among the active filters.
    pub fn has(&self, kind: FacetKind, name: &str, value: &str) -> bool {
        let group = match kind {
            FacetKind::Attribute => &self.attributes,
            FacetKind::Option => &self.options,
        };
        group.get(name).is_some_and(|v| v.contains(value))
    }
}

/// Which kind of named facet a value belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FacetKind {
    /// A merchant attribute (`attr.<name>`).
    Attribute,
    /// A variant option (`option.<name>`).
    Option,
}

impl FacetKind {
    /// The query-string prefix, `attr` or `option`.
    pub fn prefix(self) -> &'static str {
        match self {
            FacetKind::Attribute => "attr",
            FacetKind::Option => "option",
        }
    }
}

/// One value of a facet and how many products it would list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount {
    /// The value: a category slug, or an attribute or option value.
    pub value: String,
    /// Products it would list, with every other active filter applied.
    pub count: i64,
}

/// The cheapest and dearest variant price among the products listed without the price
/// filter, in minor units; both `null` when there are none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceFacet {
    /// The lowest price.
    pub min: Option<i64>,
    /// The highest price.
    pub max: Option<i64>,
}

/// Products with and without something available, without the stock filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockFacet {
    /// Products that can be bought now.
    #[serde(rename = "true")]
    pub available: i64,
    /// Products sold out (in the variants the other filters keep).
    #[serde(rename = "false")]
    pub sold_out: i64,
}

/// A listing's facets: `{"category","attributes","options","price","in_stock"}`. Each is
/// counted over the products matching every other active filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    /// Products per category (its own category, not its ancestors).
    pub category: Vec<FacetCount>,
    /// Products per value of each attribute.
    pub attributes: BTreeMap<String, Vec<FacetCount>>,
    /// Products per value of each option, in the options' own order.
    pub options: BTreeMap<String, Vec<FacetCount>>,
    /// The price range.
    pub price: PriceFacet,
    /// Products with and without stock.
    pub in_stock: StockFacet,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        price: (Option<&str>, Option<&str>),
        stock: Option<&str>,
        attrs: &[(&str, &str)],
    ) -> (ListingFilters, Vec<String>) {
        let raw = RawFilters {
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            options: vec![],
        };
        let mut bad = Vec::new();
        let f = ListingFilters::parse(price.0, price.1, stock, &raw, &mut |f, _| {
            bad.push(f.to_owned())
        });
        (f, bad)
    }

    #[test]
    fn repeated_names_collect_their_values_and_blank_choices_are_no_filter() {
        let (f, bad) = parse(
            (Some("100"), None),
            Some("true"),
            &[("color", "Red"), ("color", "Blue"), ("size", "")],
        );
        assert!(bad.is_empty());
        assert_eq!(f.attributes["color"].len(), 2);
        assert!(!f.attributes.contains_key("size"));
        assert_eq!((f.price_min, f.in_stock), (Some(100), true));
    }

    #[test]
    fn malformed_values_are_named() {
        let long = "x".repeat(101);
        let (_, bad) = parse(
            (Some("-1"), Some("abc")),
            Some("yes"),
            &[("", "Red"), ("color", long.as_str())],
        );
        assert_eq!(
            bad,
            ["price_min", "price_max", "in_stock", "attr.", "attr.color"]
        );
        let (_, bad) = parse((Some("500"), Some("100")), None, &[]);
        assert_eq!(bad, ["price_max"]);
    }

    #[test]
    fn toggling_a_value_adds_it_then_takes_it_away() {
        let f = ListingFilters::default();
        let on = f.toggled(FacetKind::Option, "Size", "M");
        assert!(on.has(FacetKind::Option, "Size", "M"));
        assert_eq!(on.pairs(), [("option.Size".to_owned(), "M".to_owned())]);
        assert!(on.toggled(FacetKind::Option, "Size", "M").is_empty());
    }

    #[test]
    fn stock_facet_serializes_under_true_and_false() {
        let v = serde_json::to_value(StockFacet {
            available: 3,
            sold_out: 1,
        })
        .expect("json");
        assert_eq!(v, serde_json::json!({"true": 3, "false": 1}));
    }
}
