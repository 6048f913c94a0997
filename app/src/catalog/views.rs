//! Catalog building blocks: product cards, grids, sorting and pagination.

use leptos::prelude::*;
use types::{ProductPage, ProductQuery, ProductSummary, Sort};

/// One product in a grid.
#[component]
pub fn ProductCard(product: ProductSummary) -> impl IntoView {
    let href = format!("/products/{}", product.slug);
    let alt = format!("Photo of {}", product.name);
    view! {
        <li class="product-card">
            <a href=href.clone() class="product-card-link">
                <img
                    src=product.image_url.unwrap_or_default()
                    alt=alt
                    width="240"
                    height="240"
                    loading="lazy"
                />
                <span class="product-name">{product.name}</span>
            </a>
            <span class="price">{product.price.to_string()}</span>
            {(!product.in_stock).then(|| view! { <span class="badge out">"Out of stock"</span> })}
        </li>
    }
}

/// A grid of product cards, or a friendly empty state.
#[component]
pub fn ProductGrid(products: Vec<ProductSummary>, #[prop(into)] empty: String) -> impl IntoView {
    if products.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <ul class="product-grid">
            {products.into_iter().map(|product| view! { <ProductCard product /> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A sort menu as a GET form: works without JavaScript, navigates in place after hydration.
#[component]
pub fn SortForm(query: ProductQuery, #[prop(into)] action: String) -> impl IntoView {
    let searching = query.q.is_some();
    let current = query.sort;
    view! {
        <form class="sort-form" method="get" action=action>
            {query.q.clone().map(|q| view! { <input type="hidden" name="q" value=q /> })}
            {(query.per_page != ProductQuery::DEFAULT_PER_PAGE)
                .then(|| {
                    view! {
                        <input type="hidden" name="per_page" value=query.per_page.to_string() />
                    }
                })}
            {query
                .filters
                .pairs()
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            <label for="sort">"Sort by"</label>
            <select id="sort" name="sort">
                {Sort::ALL
                    .into_iter()
                    .filter(|s| searching || *s != Sort::Relevance)
                    .map(|s| {
                        view! {
                            <option value=s.as_str() selected=s == current>
                                {s.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit">"Apply"</button>
        </form>
    }
}

/// Previous and next links plus the page position.
#[component]
pub fn Pagination(
    results: ProductPage,
    query: ProductQuery,
    #[prop(into)] base: String,
) -> impl IntoView {
    let pages = results.total_pages();
    let page = results.page;
    if pages <= 1 && page <= 1 {
        return ().into_any();
    }
    let link = move |p: u32| format!("{base}{}", query.href_query(p, query.sort));
    view! {
        <nav class="pagination" aria-label="Pagination">
            {(page > 1)
                .then(|| {
                    view! {
                        <a rel="prev" href=link(page - 1)>
                            "← Previous"
                        </a>
                    }
                })}
            <span aria-current="page">{format!("Page {page} of {pages}")}</span>
            {(page < pages)
                .then(|| {
                    view! {
                        <a rel="next" href=link(page + 1)>
                            "Next →"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}

/// How many items a listing shows, e.g. "Showing 25–48 of 240".
pub fn showing(results: &ProductPage) -> String {
    if results.items.is_empty() {
        return format!("{} products", results.total);
    }
    let first = i64::from(results.page - 1) * i64::from(results.per_page) + 1;
    let last = first + results.items.len() as i64 - 1;
    format!("Showing {first}–{last} of {}", results.total)
}
