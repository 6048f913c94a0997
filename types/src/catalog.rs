//! The catalog's contract types and the rules for its query parameters.

use crate::facets::{Facets, ListingFilters, RawFilters};
use crate::options::{OptionValues, ProductOption};
use crate::{AppError, FieldErrors, Money, Slug};
use serde::{Deserialize, Serialize};

/// A category with the number of active products in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategorySummary {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Listed products in it and in the categories below it.
    pub product_count: i64,
    /// The parent category's slug; `null` at the top.
    pub parent: Option<String>,
}

/// A merchant-curated collection with the number of listed products in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollectionSummary {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Products in it that the storefront shows.
    pub product_count: i64,
}

/// A product as listed: `{"slug","name","price","image_url","in_stock","category"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductSummary {
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// The lowest price among the product's variants.
    pub price: Money,
    /// Its thumbnail, if it has an image.
    pub image_url: Option<String>,
    /// Whether any variant can be bought now.
    pub in_stock: bool,
    /// The category's slug.
    pub category: String,
}

/// One purchasable variant of a product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    /// The SKU.
    pub sku: String,
    /// The variant's name.
    pub name: String,
    /// Its price.
    pub price: Money,
    /// Units that can be bought right now.
    pub available: i64,
    /// Its value for each of the product's options, e.g. `{"Size":"M"}`.
    // Spelled out rather than `OptionValues`: the OpenAPI derive names a schema after an
    // alias's outer type, and `FieldErrors` already holds the name `BTreeMap`.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, String>,
}

/// A product page: the summary fields plus description and variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductDetail {
    #[serde(flatten)]
    /// What listings show of it.
    pub summary: ProductSummary,
    /// Its description.
    pub description: String,
    /// The category's display name, for breadcrumbs.
    #[serde(default)]
    pub category_name: String,
    /// Its option axes with their values in display order.
    #[serde(default)]
    pub options: Vec<ProductOption>,
    /// The merchant's attributes, e.g. `{"material":"Cotton"}`.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Its gallery in order; the first image is `image_url`.
    #[serde(default)]
    pub images: Vec<crate::gallery::ProductImage>,
    /// Its variants.
    pub variants: Vec<Variant>,
}

impl ProductDetail {
    /// The variant with exactly these option values, if there is one.
    pub fn variant_for(&self, chosen: &OptionValues) -> Option<&Variant> {
        self.variants.iter().find(|v| &v.options == chosen)
    }

    /// Whether some variant with `name` set to `value` (and the other chosen values) can
    /// be bought now; the product page marks the combinations that cannot.
    pub fn can_choose(&self, chosen: &OptionValues, name: &str, value: &str) -> bool {
        self.variants.iter().any(|v| {
            v.available > 0
                && v.options.get(name).map(String::as_str) == Some(value)
                && chosen
                    .iter()
                    .all(|(k, want)| k == name || v.options.get(k) == Some(want))
        })
    }
}

/// One page of a product listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductPage {
    /// The products on this page.
    pub items: Vec<ProductSummary>,
    /// This page, from 1.
    pub page: u32,
    /// The page size.
    pub per_page: u32,
    /// Products matching, across all pages.
    pub total: i64,
    /// What the listing could be narrowed by, each counted over the other filters.
    #[serde(default)]
    pub facets: Facets,
}

impl ProductPage {
    /// How many pages the listing has; at least 1.
    pub fn total_pages(&self) -> u32 {
        let per = i64::from(self.per_page.max(1));
        u32::try_from(((self.total + per - 1) / per).max(1)).unwrap_or(u32::MAX)
    }
}

/// How a listing is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first (a search), else featured order.
    Relevance,
    /// Newest first.
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// By name, A to Z.
    Name,
}

impl Sort {
    /// Every sort, in the order a sort menu shows them.
    pub const ALL: [Sort; 5] = [
        Sort::Relevance,
        Sort::Newest,
        Sort::PriceAsc,
        Sort::PriceDesc,
        Sort::Name,
    ];

    /// The query-string value, e.g. `price_asc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Name => "name",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Sort::Relevance => "Best match",
            Sort::Newest => "Newest",
            Sort::PriceAsc => "Price: low to high",
            Sort::PriceDesc => "Price: high to low",
            Sort::Name => "Name",
        }
    }

    /// Parses a query-string value.
    pub fn parse(raw: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Query parameters exactly as they arrived, so that bad values become our 400, not a framework's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RawProductQuery {
    /// Search text, matched against names and descriptions.
    pub q: Option<String>,
    /// A category slug.
    pub category: Option<String>,
    /// `relevance`, `newest`, `price_asc`, `price_desc` or `name`.
    pub sort: Option<String>,
    /// The page, from 1.
    pub page: Option<String>,
    /// Products per page, 1 to 100.
    pub per_page: Option<String>,
    /// The lowest variant price to list, in minor units, inclusive.
    pub price_min: Option<String>,
    /// The highest variant price to list, in minor units, inclusive.
    pub price_max: Option<String>,
    /// `true` keeps products with something available.
    pub in_stock: Option<String>,
    /// The `attr.<name>` and `option.<name>` values, which a query string repeats; see
    /// [`RawProductQuery::from_pairs`].
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(ignore), schema(ignore))]
    pub filters: RawFilters,
}

impl RawProductQuery {
    /// Reads a decoded query string. `attr.<name>` and `option.<name>` may repeat; any
    /// other known parameter given twice is a 400 naming it, and unknown ones are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, AppError> {
        let mut raw = RawProductQuery::default();
        for (key, value) in pairs {
            if let Some(name) = key.strip_prefix("attr.") {
                raw.filters.attrs.push((name.to_owned(), value.to_owned()));
                continue;
            }
            if let Some(name) = key.strip_prefix("option.") {
                raw.filters
                    .options
                    .push((name.to_owned(), value.to_owned()));
                continue;
            }
            let slot = match key {
                "q" => &mut raw.q,
                "category" => &mut raw.category,
                "sort" => &mut raw.sort,
                "page" => &mut raw.page,
                "per_page" => &mut raw.per_page,
                "price_min" => &mut raw.price_min,
                "price_max" => &mut raw.price_max,
                "in_stock" => &mut raw.in_stock,
                _ => continue,
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(AppError::invalid_param(key, "is given more than once"));
            }
        }
        Ok(raw)
    }
}

/// A validated product listing query.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductQuery {
    /// Trimmed search text; `None` when absent or blank.
    pub q: Option<String>,
    /// Only this category.
    pub category: Option<Slug>,
    /// The order of the results.
    pub sort: Sort,
    /// The page, from 1.
    pub page: u32,
    /// Products per page, 1 to 100.
    pub per_page: u32,
    /// The active filters.
    #[serde(default)]
    pub filters: ListingFilters,
}

impl ProductQuery {
    /// The default page size.
    pub const DEFAULT_PER_PAGE: u32 = 24;
    /// The largest page size.
    pub const MAX_PER_PAGE: u32 = 100;
    /// The longest search text, in characters.
    pub const MAX_Q_CHARS: usize = 200;
    /// The deepest page; deeper offsets are refused rather than scanned.
    pub const MAX_PAGE: u32 = 10_000;

    /// Checks every parameter and reports all the bad ones at once as a 400 `validation` error.
    pub fn parse(raw: &RawProductQuery) -> Result<Self, AppError> {
        let mut fields = FieldErrors::new();
        let mut bad =
            |field: &str, msg: String| fields.entry(field.to_owned()).or_default().push(msg);

        let q = raw
            .q
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if let Some(q) = &q {
            if q.chars().count() > Self::MAX_Q_CHARS {
                bad(
                    "q",
                    format!("must be at most {} characters", Self::MAX_Q_CHARS),
                );
            }
            if q.chars().any(char::is_control) {
                bad("q", "must not contain control characters".to_owned());
            }
        }
        let category = match raw
            .category
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => match Slug::parse(s) {
                Ok(slug) => Some(slug),
                Err(e) => {
                    bad("category", e.to_string());
                    None
                }
            },
        };
        let sort = match raw.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None if q.is_some() => Sort::Relevance,
            None => Sort::Newest,
            Some(s) => Sort::parse(s).unwrap_or_else(|| {
                let allowed: Vec<_> = Sort::ALL.iter().map(|s| s.as_str()).collect();
                bad("sort", format!("must be one of {}", allowed.join(", ")));
                Sort::Newest
            }),
        };
        let page = parse_bounded(raw.page.as_deref(), 1, 1, Self::MAX_PAGE).unwrap_or_else(|msg| {
            bad("page", msg);
            1
        });
        let per_page = parse_bounded(
            raw.per_page.as_deref(),
            Self::DEFAULT_PER_PAGE,
            1,
            Self::MAX_PER_PAGE,
        )
        .unwrap_or_else(|msg| {
            bad("per_page", msg);
            Self::DEFAULT_PER_PAGE
        });
        let filters = ListingFilters::parse(
            raw.price_min.as_deref(),
            raw.price_max.as_deref(),
            raw.in_stock.as_deref(),
            &raw.filters,
            &mut bad,
        );

        if fields.is_empty() {
            Ok(ProductQuery {
                q,
                category,
                sort,
                page,
                per_page,
                filters,
            })
        } else {
            let names: Vec<_> = fields.keys().cloned().collect();
            Err(AppError::InvalidQuery {
                message: format!("invalid query parameters: {}", names.join(", ")),
                fields,
            })
        }
    }

    /// Parses for a page, where a bad parameter should not cost the shopper the page:
    /// bad values fall back to their defaults and the error says which ones were dropped.
    pub fn parse_lenient(raw: &RawProductQuery) -> (Self, Option<AppError>) {
        match Self::parse(raw) {
            Ok(q) => (q, None),
            Err(err) => {
                let mut clean = raw.clone();
                for field in err
                    .fields()
                    .map(|f| f.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    match field.as_str() {
                        "q" => clean.q = None,
                        "category" => clean.category = None,
                        "sort" => clean.sort = None,
                        "page" => clean.page = None,
                        "per_page" => clean.per_page = None,
                        "price_min" | "price_max" => {
                            clean.price_min = None;
                            clean.price_max = None;
                        }
                        "in_stock" => clean.in_stock = None,
                        f => {
                            // A bad attribute or option filter is dropped with its name.
                            let (attr, opt) = (f.strip_prefix("attr."), f.strip_prefix("option."));
                            clean
                                .filters
                                .attrs
                                .retain(|(n, _)| Some(n.as_str()) != attr);
                            clean
                                .filters
                                .options
                                .retain(|(n, _)| Some(n.as_str()) != opt);
                            if f == "attr" {
                                clean.filters = RawFilters::default();
                            }
                        }
                    }
                }
                let fallback = ProductQuery {
                    q: None,
                    category: None,
                    sort: Sort::Newest,
                    page: 1,
                    per_page: Self::DEFAULT_PER_PAGE,
                    filters: ListingFilters::default(),
                };
                (Self::parse(&clean).unwrap_or(fallback), Some(err))
            }
        }
    }

    /// A URL query string for this listing at `page` with `sort`, e.g. `?q=mug&sort=name&page=2`,
    /// with its filters.
    pub fn href_query(&self, page: u32, sort: Sort) -> String {
        let mut parts = Vec::new();
        if let Some(q) = &self.q {
            parts.push(format!("q={}", url_encode(q)));
            // Search results narrowed to a category carry it; category pages have it in
            // their path and never carry text.
            if let Some(c) = &self.category {
                parts.push(format!("category={c}"));
            }
        }
        let default_sort = if self.q.is_some() {
            Sort::Relevance
        } else {
            Sort::Newest
        };
        if sort != default_sort {
            parts.push(format!("sort={}", sort.as_str()));
        }
        if self.per_page != Self::DEFAULT_PER_PAGE {
            parts.push(format!("per_page={}", self.per_page));
        }
        for (k, v) in self.filters.pairs() {
            parts.push(format!("{}={}", url_encode(&k), url_encode(&v)));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// The raw form of this query, e.g. for links to other pages of the same listing.
    pub fn to_raw(&self) -> RawProductQuery {
        RawProductQuery {
            q: self.q.clone(),
            category: self.category.as_ref().map(|c| c.to_string()),
            sort: Some(self.sort.as_str().to_owned()),
            page: Some(self.page.to_string()),
            per_page: (self.per_page != Self::DEFAULT_PER_PAGE).then(|| self.per_page.to_string()),
            price_min: self.filters.price_min.map(|n| n.to_string()),
            price_max: self.filters.price_max.map(|n| n.to_string()),
            in_stock: self.filters.in_stock.then(|| "true".to_owned()),
            filters: RawFilters {
                attrs: flat(&self.filters.attributes),
                options: flat(&self.filters.options),
            },
        }
    }

    /// This query with other filters, from the first page: where a facet link leads.
    pub fn with_filters(&self, filters: ListingFilters) -> ProductQuery {
        ProductQuery {
            filters,
            page: 1,
            ..self.clone()
        }
    }

    /// Rows to skip for this page.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

fn flat(
    group: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Vec<(String, String)> {
    group
        .iter()
        .flat_map(|(n, vs)| vs.iter().map(move |v| (n.clone(), v.clone())))
        .collect()
}

/// Percent-encodes a query-string value (`application/x-www-form-urlencoded`).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn parse_bounded(raw: Option<&str>, default: u32, min: u32, max: u32) -> Result<u32, String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("must be a whole number from {min} to {max}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawProductQuery {
        let mut r = RawProductQuery::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "q" => r.q = v,
                "category" => r.category = v,
                "sort" => r.sort = v,
                "page" => r.page = v,
                "per_page" => r.per_page = v,
                "price_min" => r.price_min = v,
                "in_stock" => r.in_stock = v,
                _ => unreachable!(),
            }
        }
        r
    }

    #[test]
    fn defaults_to_newest_first_page_of_24() {
        let q = ProductQuery::parse(&RawProductQuery::default()).expect("valid");
        assert_eq!(
            (q.sort, q.page, q.per_page, q.q),
            (Sort::Newest, 1, 24, None)
        );
    }

    #[test]
    fn defaults_to_relevance_when_searching() {
        let q = ProductQuery::parse(&raw(&[("q", "  mug ")])).expect("valid");
        assert_eq!((q.sort, q.q.as_deref()), (Sort::Relevance, Some("mug")));
    }

    #[test]
    fn rejects_each_bad_parameter_with_its_field_named() {
        let long_q = "x".repeat(201);
        let cases = [
            ("page", "0"),
            ("page", "abc"),
            ("page", "-1"),
            ("page", "10001"),
            ("per_page", "0"),
            ("per_page", "1000"),
            ("per_page", "2.5"),
            ("sort", "cheapest"),
            ("q", long_q.as_str()),
            ("category", "Not A Slug"),
        ];
        for (field, value) in cases {
            let err = ProductQuery::parse(&raw(&[(field, value)])).expect_err(field);
            assert_eq!(err.status(), 400);
            assert!(
                err.fields().expect("fields").contains_key(field),
                "{field}={value}"
            );
        }
    }

    #[test]
    fn reports_all_bad_fields_together() {
        let err = ProductQuery::parse(&raw(&[("page", "0"), ("sort", "x")])).expect_err("invalid");
        let fields = err.fields().expect("fields");
        assert!(fields.contains_key("page") && fields.contains_key("sort"));
    }

    #[test]
    fn accepts_the_limits() {
        let q = ProductQuery::parse(&raw(&[
            ("page", "10000"),
            ("per_page", "100"),
            ("q", &"é".repeat(200)),
        ]))
        .expect("valid");
        assert_eq!(q.offset(), 9_999 * 100);
    }

    #[test]
    fn lenient_parse_keeps_good_values_and_drops_bad_ones() {
        let (q, err) = ProductQuery::parse_lenient(&raw(&[("page", "0"), ("sort", "name")]));
        assert_eq!((q.page, q.sort), (1, Sort::Name));
        assert!(err
            .expect("reported")
            .fields()
            .expect("fields")
            .contains_key("page"));
        let (_, err) = ProductQuery::parse_lenient(&raw(&[("page", "2")]));
        assert!(err.is_none());
    }

    #[test]
    fn href_query_encodes_text_and_omits_defaults() {
        let q = ProductQuery::parse(&raw(&[("q", "red & blue")])).expect("valid");
        assert_eq!(q.href_query(1, Sort::Relevance), "?q=red+%26+blue");
        assert_eq!(
            q.href_query(3, Sort::Name),
            "?q=red+%26+blue&sort=name&page=3"
        );
        let plain = ProductQuery::parse(&RawProductQuery::default()).expect("valid");
        assert_eq!(plain.href_query(1, Sort::Newest), "");
    }

    #[test]
    fn a_query_string_repeats_filters_but_not_plain_parameters() {
        let raw = RawProductQuery::from_pairs([
            ("attr.material", "Cotton"),
            ("option.Size", "M"),
            ("attr.material", "Wool"),
            ("price_max", "5000"),
            ("utm_source", "mail"),
        ])
        .expect("filters repeat");
        let q = ProductQuery::parse(&raw).expect("valid");
        assert_eq!(q.filters.attributes["material"].len(), 2);
        assert_eq!(q.filters.price_max, Some(5000));
        assert_eq!(
            q.href_query(2, Sort::Newest),
            "?attr.material=Cotton&attr.material=Wool&option.Size=M&price_max=5000&page=2"
        );
        assert_eq!(ProductQuery::parse(&q.to_raw()).expect("round trip"), q);
        let err = RawProductQuery::from_pairs([("sort", "name"), ("sort", "newest")])
            .expect_err("a plain parameter twice");
        assert!(err.fields().expect("fields").contains_key("sort"));
    }

    #[test]
    fn a_bad_filter_is_dropped_leniently_and_the_rest_kept() {
        let raw = RawProductQuery::from_pairs([("price_min", "abc"), ("option.Size", "M")])
            .expect("pairs");
        let (q, err) = ProductQuery::parse_lenient(&raw);
        assert!(err.is_some());
        assert_eq!(q.filters.price_min, None);
        assert!(q.filters.options.contains_key("Size"));
    }

    #[test]
    fn total_pages_rounds_up() {
        let page = |total| ProductPage {
            items: vec![],
            page: 1,
            per_page: 24,
            total,
            facets: Default::default(),
        };
        assert_eq!(page(0).total_pages(), 1);
        assert_eq!(page(24).total_pages(), 1);
        assert_eq!(page(25).total_pages(), 2);
    }

    #[test]
    fn detail_serializes_flat_like_the_contract() {
        let d = ProductDetail {
            summary: ProductSummary {
                slug: "mug".into(),
                name: "Mug".into(),
                price: Money::new(900, crate::Currency::USD),
                image_url: None,
                in_stock: true,
                category: "home".into(),
            },
            description: "A mug".into(),
            category_name: "Home".into(),
            options: vec![],
            attributes: Default::default(),
            images: vec![],
            variants: vec![],
        };
        let v = serde_json::to_value(&d).expect("json");
        assert_eq!(v["slug"], "mug");
        assert_eq!(v["price"]["amount"], 900);
        assert!(v["variants"].is_array());
    }
}
