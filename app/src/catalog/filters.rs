//! The listing's filter sidebar: options, attributes, stock and price, each value with
//! the count it would list. Values are checkboxes of one GET form and price ranges are
//! links, so every filtered listing works without JavaScript and is a shareable URL.

use leptos::prelude::*;
use types::facets::{FacetCount, FacetKind, Facets, ListingFilters};
use types::{CategorySummary, Money, ProductQuery};

/// Up to four price ranges covering `min..=max` (minor units), on round boundaries.
fn price_ranges(min: i64, max: i64) -> Vec<(i64, Option<i64>)> {
    if max <= min {
        return Vec::new();
    }
    // The smallest round step (in whole units) that splits the range into at most four.
    let span = (max - min) / 100 + 1;
    let step = [
        5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_500, 5_000, 10_000,
    ]
    .into_iter()
    .find(|s| span / s < 4)
    .unwrap_or(100_000)
        * 100;
    let mut out = Vec::new();
    let mut lo = min / step * step;
    while lo <= max && out.len() < 4 {
        let hi = lo + step - 1;
        out.push((lo, (hi < max).then_some(hi)));
        lo += step;
    }
    if let Some(last) = out.last_mut() {
        last.1 = None;
    }
    out
}

fn range_label(lo: i64, hi: Option<i64>, like: Money) -> String {
    let m = |n| Money::new(n, like.currency).to_string();
    match hi {
        Some(hi) => format!("{} – {}", m(lo), m(hi)),
        None => format!("{} and up", m(lo)),
    }
}

/// The sidebar for `query`'s listing at `base` (a category's or the search page's path).
#[component]
pub fn FilterSidebar(
    facets: Facets,
    query: ProductQuery,
    #[prop(into)] base: String,
    /// The catalog's categories, to name the category facet's slugs.
    categories: Vec<CategorySummary>,
    /// The listing's price currency, for the range labels.
    currency: Option<Money>,
) -> impl IntoView {
    let filters = query.filters.clone();
    let href = {
        let (base, query) = (base.clone(), query.clone());
        move |next: ListingFilters| {
            let q = query.with_filters(next);
            format!("{base}{}", q.href_query(1, q.sort))
        }
    };
    let active = active_chips(&filters, &href, currency);
    let group = |kind: FacetKind, name: String, values: Vec<FacetCount>| {
        let field = format!("{}.{name}", kind.prefix());
        let legend = name.clone();
        view! {
            <fieldset class="facet">
                <legend>{legend}</legend>
                {values
                    .into_iter()
                    .map(|v| {
                        let id = format!(
                            "facet-{}-{}",
                            kind.prefix(),
                            slugish(&format!("{name}-{}", v.value)),
                        );
                        let checked = filters.has(kind, &name, &v.value);
                        view! {
                            <div class="facet-value">
                                <input
                                    type="checkbox"
                                    id=id.clone()
                                    name=field.clone()
                                    value=v.value.clone()
                                    checked=checked
                                />
                                <label for=id>
                                    {v.value.clone()}
                                    <span class="facet-count">{format!(" ({})", v.count)}</span>
                                </label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
        }
    };
    let options = facets
        .options
        .into_iter()
        .map(|(name, values)| group(FacetKind::Option, name, values))
        .collect_view();
    let attributes = facets
        .attributes
        .into_iter()
        .map(|(name, values)| group(FacetKind::Attribute, name, values))
        .collect_view();
    let prices = match (facets.price.min, facets.price.max, currency) {
        (Some(lo), Some(hi), Some(like)) => price_ranges(lo, hi)
            .into_iter()
            .map(|(lo, hi)| {
                let mut next = filters.clone();
                next.price_min = Some(lo);
                next.price_max = hi;
                let on = filters.price_min == Some(lo) && filters.price_max == hi;
                view! {
                    <li>
                        <a href=href(next) aria-current=on.then_some("true")>
                            {range_label(lo, hi, like)}
                        </a>
                    </li>
                }
            })
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    };
    let names = move |slug: &str| {
        categories
            .iter()
            .find(|c| c.slug == slug)
            .map_or_else(|| slug.to_owned(), |c| c.name.clone())
    };
    let category_links = facets
        .category
        .into_iter()
        .map(|c| {
            let link = if query.q.is_some() {
                let q = ProductQuery {
                    category: types::Slug::parse(&c.value).ok(),
                    ..query.with_filters(filters.clone())
                };
                format!("{base}{}", q.href_query(1, q.sort))
            } else {
                let q = query.with_filters(filters.clone());
                format!("/categories/{}{}", c.value, q.href_query(1, q.sort))
            };
            view! {
                <li>
                    <a href=link>{names(&c.value)}</a>
                    <span class="facet-count">{format!(" ({})", c.count)}</span>
                </li>
            }
        })
        .collect_view();
    let stock = facets.in_stock.available;
    view! {
        <aside class="filters" aria-label="Filters">
            <h2>"Filter"</h2>
            {active}
            <form method="get" action=base.clone() class="filter-form">
                {query.q.clone().map(|q| view! { <input type="hidden" name="q" value=q /> })}
                {(query.q.is_some())
                    .then(|| query.category.as_ref().map(|c| c.to_string()))
                    .flatten()
                    .map(|c| view! { <input type="hidden" name="category" value=c /> })}
                <input type="hidden" name="sort" value=query.sort.as_str() />
                {filters
                    .price_min
                    .map(|p| {
                        view! { <input type="hidden" name="price_min" value=p.to_string() /> }
                    })}
                {filters
                    .price_max
                    .map(|p| {
                        view! { <input type="hidden" name="price_max" value=p.to_string() /> }
                    })}
                <div class="facet-value">
                    <input
                        type="checkbox"
                        id="facet-in-stock"
                        name="in_stock"
                        value="true"
                        checked=filters.in_stock
                    />
                    <label for="facet-in-stock">
                        "In stock only" <span class="facet-count">{format!(" ({stock})")}</span>
                    </label>
                </div>
                {options}
                {attributes}
                <button type="submit">"Apply filters"</button>
            </form>
            <section class="facet">
                <h3>"Price"</h3>
                <ul class="facet-links">{prices}</ul>
            </section>
            <section class="facet">
                <h3>"Category"</h3>
                <ul class="facet-links">{category_links}</ul>
            </section>
        </aside>
    }
}

/// The active filters as links that each take one away, and one that clears them all.
fn active_chips(
    filters: &ListingFilters,
    href: &impl Fn(ListingFilters) -> String,
    currency: Option<Money>,
) -> impl IntoView {
    if filters.is_empty() {
        return ().into_any();
    }
    let mut chips = Vec::new();
    for (kind, group) in [
        (FacetKind::Option, &filters.options),
        (FacetKind::Attribute, &filters.attributes),
    ] {
        for (name, values) in group {
            for value in values {
                chips.push((
                    format!("{name}: {value}"),
                    href(filters.toggled(kind, name, value)),
                ));
            }
        }
    }
    if filters.price_min.is_some() || filters.price_max.is_some() {
        let like = currency.unwrap_or(Money::new(0, types::Currency::USD));
        let label = match (filters.price_min, filters.price_max) {
            (lo, Some(hi)) => range_label(lo.unwrap_or(0), Some(hi), like),
            (lo, None) => range_label(lo.unwrap_or(0), None, like),
        };
        let next = ListingFilters {
            price_min: None,
            price_max: None,
            ..filters.clone()
        };
        chips.push((label, href(next)));
    }
    if filters.in_stock {
        let next = ListingFilters {
            in_stock: false,
            ..filters.clone()
        };
        chips.push(("In stock".to_owned(), href(next)));
    }
    let clear = href(ListingFilters::default());
    view! {
        <ul class="active-filters" aria-label="Active filters">
            {chips
                .into_iter()
                .map(|(label, link)| {
                    let aria = format!("Remove filter {label}");
                    view! {
                        <li>
                            <a href=link aria-label=aria>
                                {label}
                                " ×"
                            </a>
                        </li>
                    }
                })
                .collect_view()}
            <li>
                <a href=clear>"Clear all"</a>
            </li>
        </ul>
    }
    .into_any()
}

fn slugish(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::price_ranges;

    #[test]
    fn price_ranges_are_round_and_cover_the_whole_range() {
        assert_eq!(
            price_ranges(1_899, 14_099),
            [(0, Some(4_999)), (5_000, Some(9_999)), (10_000, None),]
        );
        assert!(price_ranges(500, 500).is_empty());
        let r = price_ranges(999, 999_999);
        assert!(r.len() <= 4 && r[0].0 <= 999 && r.last().expect("one").1.is_none());
    }
}
