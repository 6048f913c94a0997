//! Catalog pages. Each loads its data through a server function inside `Suspense`;
//! the routes render them in async mode, so titles and status codes are right without JS.

use super::api::{get_collection, get_home, get_listing, get_product, Listing, ProductScreen};
use super::filters::FilterSidebar;
use super::gallery::Gallery;
use super::picker::{initial_choice, OptionPicker};
use super::views::{showing, Pagination, ProductGrid, SortForm};
use crate::cart::AddToCartForm;
use crate::layout::ErrorView;
use crate::use_hydrated;
use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};
use types::options::OptionValues;
use types::{ProductDetail, RawProductQuery, Variant};

fn loading() -> impl IntoView {
    view! {
        <p class="loading" aria-busy="true">
            "Loading…"
        </p>
    }
}

/// Links to categories or collections under `base`, each with its product count.
#[component]
fn SectionLinks(base: &'static str, items: Vec<(String, String, i64)>) -> impl IntoView {
    view! {
        <ul class="category-list">
            {items
                .into_iter()
                .map(|(slug, name, count)| {
                    view! {
                        <li>
                            <a href=format!("{base}/{slug}")>
                                <span class="category-name">{name}</span>
                                <span class="category-count">{format!("{count} products")}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// `/`: categories, featured products and new arrivals.
#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_home());
    view! {
        <Title text="" />
        <Meta
            name="description"
            content="Bazaar: everyday goods, fairly priced and shipped fast. Shop apparel, home, outdoor and more."
        />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(home) => {
                        view! {
                            <section class="hero">
                                <h1>"Everyday goods, fairly priced"</h1>
                                <p>"Browse our collections or search for something specific."</p>
                            </section>
                            <section aria-labelledby="categories-heading">
                                <h2 id="categories-heading">"Shop by category"</h2>
                                <SectionLinks
                                    base="/categories"
                                    items=home
                                        .categories
                                        .into_iter()
                                        .map(|c| (c.slug, c.name, c.product_count))
                                        .collect()
                                />
                            </section>
                            {(!home.collections.is_empty())
                                .then(|| {
                                    view! {
                                        <section aria-labelledby="collections-heading">
                                            <h2 id="collections-heading">"Collections"</h2>
                                            <SectionLinks
                                                base="/collections"
                                                items=home
                                                    .collections
                                                    .into_iter()
                                                    .map(|c| (c.slug, c.name, c.product_count))
                                                    .collect()
                                            />
                                        </section>
                                    }
                                })}
                            <section aria-labelledby="featured-heading">
                                <h2 id="featured-heading">"Featured"</h2>
                                <ProductGrid
                                    products=home.featured
                                    empty="Nothing featured right now."
                                />
                            </section>
                            <section aria-labelledby="newest-heading">
                                <h2 id="newest-heading">"New arrivals"</h2>
                                <ProductGrid products=home.newest empty="No products yet." />
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn raw_query(category: Option<String>) -> RawProductQuery {
    let query = use_query_map();
    let q = query.read();
    // Filter names repeat; any other parameter keeps its last value, since a page should
    // not fail over a URL that names one twice.
    let repeats = |k: &str| k.starts_with("attr.") || k.starts_with("option.");
    let pairs = (&*q)
        .into_iter()
        .filter(|(k, _)| repeats(k))
        .chain(q.latest_values().filter(|(k, _)| !repeats(k)))
        .map(|(k, v)| (k.as_ref(), v));
    let mut raw = RawProductQuery::from_pairs(pairs).unwrap_or_default();
    // A category page lists the category; the search page may narrow to one by its
    // category facet.
    if category.is_some() {
        raw.q = None;
        raw.category = category;
    }
    raw
}

/// A listing with its heading, sort menu, grid and pagination.
#[component]
fn ListingView(
    listing: Listing,
    #[prop(into)] base: String,
    #[prop(into)] heading: String,
) -> impl IntoView {
    let Listing {
        query,
        mut results,
        notice,
        categories,
        ..
    } = listing;
    let facets = std::mem::take(&mut results.facets);
    let currency = results.items.first().map(|p| p.price);
    let count = showing(&results);
    let empty = if query.q.is_some() {
        "No products match your search. Check the spelling or try fewer words."
    } else {
        "No products here yet."
    };
    view! {
        <header class="listing-header">
            <h1>{heading}</h1>
            <p class="listing-count" aria-live="polite">
                {count}
            </p>
            <SortForm query=query.clone() action=base.clone() />
        </header>
        {notice
            .map(|n| {
                view! {
                    <p class="notice" role="status">
                        {n}
                    </p>
                }
            })}
        <div class="listing-body">
            <FilterSidebar facets query=query.clone() base=base.clone() categories currency />
            <div class="listing-results">
                <ProductGrid products=results.items.clone() empty=empty />
                <Pagination results query base />
            </div>
        </div>
    }
}

/// Breadcrumb links to each category, top first, each after a separator.
#[component]
fn CategoryTrail(categories: Vec<(String, String)>) -> impl IntoView {
    categories
        .into_iter()
        .map(|(slug, name)| {
            view! {
                " / "
                <a href=format!("/categories/{slug}")>{name}</a>
            }
        })
        .collect_view()
}

/// `/categories/:slug`: one category and those below it, sortable and paginated.
#[component]
pub fn CategoryPage() -> impl IntoView {
    let params = use_params_map();
    let listing = Resource::new(move || raw_query(params.read().get("slug")), get_listing);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match listing.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(listing) => {
                        let name = listing.category_name.clone().unwrap_or_default();
                        let base = format!(
                            "/categories/{}",
                            params.read_untracked().get("slug").unwrap_or_default(),
                        );
                        let description = format!(
                            "Shop {} at Bazaar: {} products.",
                            name,
                            listing.results.total,
                        );
                        let unfiltered = types::ProductQuery {
                            filters: Default::default(),
                            ..listing.query.clone()
                        };
                        let canonical = format!(
                            "{}{base}{}",
                            listing.site,
                            unfiltered.href_query(listing.query.page, types::Sort::Newest),
                        );
                        // Every filtered view of a category points search engines at the whole one.
                        view! {
                            <Title text=name.clone() />
                            <Meta name="description" content=description.clone() />
                            <Link rel="canonical" href=canonical.clone() />
                            <Meta property="og:type" content="website" />
                            <Meta property="og:site_name" content="Bazaar" />
                            <Meta property="og:title" content=name.clone() />
                            <Meta property="og:description" content=description />
                            <Meta property="og:url" content=canonical />
                            <nav class="breadcrumbs" aria-label="Breadcrumb">
                                <a href="/">"Home"</a>
                                <CategoryTrail categories=listing.ancestors.clone() />
                                " / "
                                <span aria-current="page">{name.clone()}</span>
                            </nav>
                            {(!listing.subcategories.is_empty())
                                .then(|| {
                                    view! {
                                        <nav class="subcategories" aria-label="Subcategories">
                                            <SectionLinks
                                                base="/categories"
                                                items=listing
                                                    .subcategories
                                                    .iter()
                                                    .map(|c| (c.slug.clone(), c.name.clone(), c.product_count))
                                                    .collect()
                                            />
                                        </nav>
                                    }
                                })}
                            <ListingView listing base heading=name />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/collections/:slug`: a merchant-curated list, in the merchant's order, paginated.
#[component]
pub fn CollectionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let listing = Resource::new(
        move || {
            let q = query.read();
            (
                params.read().get("slug").unwrap_or_default(),
                q.get("page"),
                q.get("per_page"),
            )
        },
        |(slug, page, per_page)| get_collection(slug, page, per_page),
    );
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match listing.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(c) => {
                        let base = format!(
                            "/collections/{}",
                            params.read_untracked().get("slug").unwrap_or_default(),
                        );
                        let canonical = format!(
                            "{}{base}{}",
                            c.site,
                            c.query.href_query(c.query.page, types::Sort::Newest),
                        );
                        let description = if c.description.is_empty() {
                            format!("{} at Bazaar: {} products.", c.name, c.results.total)
                        } else {
                            c.description.chars().take(155).collect()
                        };
                        view! {
                            <Title text=c.name.clone() />
                            <Meta name="description" content=description.clone() />
                            <Link rel="canonical" href=canonical.clone() />
                            <Meta property="og:type" content="website" />
                            <Meta property="og:site_name" content="Bazaar" />
                            <Meta property="og:title" content=c.name.clone() />
                            <Meta property="og:description" content=description />
                            <Meta property="og:url" content=canonical />
                            <nav class="breadcrumbs" aria-label="Breadcrumb">
                                <a href="/">"Home"</a>
                                " / "
                                <span aria-current="page">{c.name.clone()}</span>
                            </nav>
                            <header class="listing-header">
                                <h1>{c.name}</h1>
                                <p class="listing-count">{showing(&c.results)}</p>
                            </header>
                            {(!c.description.is_empty())
                                .then(|| {
                                    view! { <p class="collection-description">{c.description}</p> }
                                })}
                            <ProductGrid
                                products=c.results.items.clone()
                                empty="This collection is empty for now."
                            />
                            <Pagination results=c.results query=c.query base />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/search?q=`: full-text search with typo tolerance; all products when `q` is empty.
#[component]
pub fn SearchPage() -> impl IntoView {
    let listing = Resource::new(move || raw_query(None), get_listing);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match listing.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(listing) => {
                        let heading = match &listing.query.q {
                            Some(q) => format!("Results for “{q}”"),
                            None => "All products".to_owned(),
                        };
                        view! {
                            <Title text=heading.clone() />
                            <Meta name="description" content="Search Bazaar's catalog." />
                            <Meta name="robots" content="noindex" />
                            <ListingView listing base="/search" heading />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/products/:slug`: the product with its variants. `?variant=SKU` preselects one.
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let product = Resource::new(
        move || params.read().get("slug").unwrap_or_default(),
        get_product,
    );
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match product.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(ProductScreen { product, site, categories }) => {
                        let q = query.read_untracked();
                        let wanted = q.get("variant");
                        let first_image = q
                            .get("image")
                            .and_then(|i| i.parse::<usize>().ok())
                            .unwrap_or(0);
                        let keep: String = q
                            .latest_values()
                            .filter(|(k, _)| k.starts_with("option.") || *k == "variant")
                            .map(|(k, v)| {
                                format!("{}={}&", types::url_encode(k), types::url_encode(v))
                            })
                            .collect();
                        let wanted_options = q
                            .latest_values()
                            .filter_map(|(k, v)| {
                                k.strip_prefix("option.").map(|k| (k.to_owned(), v.to_owned()))
                            })
                            .collect();
                        // Thumbnail links keep the choice the page was opened with.
                        view! {
                            <ProductView
                                product
                                site
                                categories
                                wanted
                                wanted_options
                                first_image
                                keep
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn stock_label(variant: Option<&Variant>) -> String {
    match variant.map(|v| v.available) {
        None | Some(0) => "Out of stock".to_owned(),
        Some(n) if n <= 5 => format!("Only {n} left"),
        Some(_) => "In stock".to_owned(),
    }
}

fn initial_variant(variants: &[Variant], wanted: Option<String>) -> String {
    wanted
        .and_then(|w| variants.iter().find(|v| v.sku.eq_ignore_ascii_case(&w)))
        .or_else(|| variants.iter().find(|v| v.available > 0))
        .or_else(|| variants.first())
        .map(|v| v.sku.clone())
        .unwrap_or_default()
}

#[component]
fn ProductView(
    product: ProductDetail,
    site: String,
    categories: Vec<(String, String)>,
    wanted: Option<String>,
    wanted_options: OptionValues,
    first_image: usize,
    keep: String,
) -> impl IntoView {
    let url = format!("{site}/products/{}", product.summary.slug);
    let json_ld = types::seo::product_json_ld(&product, &site, &url);
    let og_image = product
        .summary
        .image_url
        .as_deref()
        .map(|image| types::seo::absolute(&site, image));
    let ProductDetail {
        summary,
        description,
        category_name: _,
        options,
        attributes,
        images,
        variants,
    } = product;
    // A product with options is chosen value by value; one without, variant by variant.
    let has_options = !options.is_empty();
    let chosen = RwSignal::new(initial_choice(
        &variants,
        wanted.as_deref(),
        &wanted_options,
    ));
    let selected = RwSignal::new(initial_variant(&variants, wanted));
    let variants = StoredValue::new(variants);
    let current = move || {
        variants.with_value(|vs| {
            if has_options {
                chosen.with(|c| vs.iter().find(|v| &v.options == c).cloned())
            } else {
                vs.iter().find(|v| v.sku == selected.get()).cloned()
            }
        })
    };
    let sku = Signal::derive(move || current().map(|v| v.sku).unwrap_or_default());
    let hydrated = use_hydrated();
    let meta: String = description.chars().take(155).collect();
    let single = variants.with_value(|v| v.len() == 1);
    let picker = has_options.then(|| {
        view! { <OptionPicker options variants chosen hydrated /> }
    });
    view! {
        <Title text=summary.name.clone() />
        <Meta name="description" content=meta.clone() />
        <Link rel="canonical" href=url.clone() />
        <Meta property="og:type" content="product" />
        <Meta property="og:site_name" content="Bazaar" />
        <Meta property="og:title" content=summary.name.clone() />
        <Meta property="og:description" content=meta />
        <Meta property="og:url" content=url />
        {og_image.map(|image| view! { <Meta property="og:image" content=image /> })}
        <script type="application/ld+json" inner_html=json_ld></script>
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/">"Home"</a>
            <CategoryTrail categories />
            " / "
            <span aria-current="page">{summary.name.clone()}</span>
        </nav>
        <article class="product">
            <Gallery images first=first_image query=keep name=summary.name.clone() />
            <div class="product-info">
                <h1>{summary.name}</h1>
                <p class="price product-price" data-testid="price">
                    {move || current().map(|v| v.price.to_string()).unwrap_or_default()}
                </p>
                <p class="stock" data-testid="stock">
                    {move || stock_label(current().as_ref())}
                </p>
                {picker}
                {(!has_options)
                    .then(|| {
                        view! {
                            <form method="get" class="variant-form" hidden=single>
                                <fieldset>
                                    <legend>"Choose an option"</legend>
                                    {variants
                                        .with_value(|vs| {
                                            vs.iter()
                                                .map(|v| {
                                                    let sku = v.sku.clone();
                                                    let id = format!("variant-{}", v.sku.to_lowercase());
                                                    let checked = selected.get_untracked() == v.sku;
                                                    view! {
                                                        <div class="variant">
                                                            <input
                                                                type="radio"
                                                                name="variant"
                                                                id=id.clone()
                                                                value=v.sku.clone()
                                                                checked=checked
                                                                on:change=move |_| selected.set(sku.clone())
                                                            />
                                                            <label for=id>
                                                                {v.name.clone()}" · "{v.price.to_string()}
                                                                {(v.available == 0).then_some(" (sold out)")}
                                                            </label>
                                                        </div>
                                                    }
                                                })
                                                .collect_view()
                                        })}
                                </fieldset>
                                <button type="submit" hidden=move || hydrated.get()>
                                    "Show this option"
                                </button>
                            </form>
                        }
                    })}
                <AddToCartForm
                    sku
                    disabled=Signal::derive(move || {
                        current().map(|v| v.available == 0).unwrap_or(true)
                    })
                />
                <p class="sku">"SKU: "<span data-testid="sku">{move || sku.get()}</span></p>
                <div class="description">
                    <p>{description}</p>
                </div>
                {(!attributes.is_empty())
                    .then(|| {
                        view! {
                            <dl class="attributes">
                                {attributes
                                    .into_iter()
                                    .map(|(name, value)| {
                                        view! {
                                            <dt>{name}</dt>
                                            <dd>{value}</dd>
                                        }
                                    })
                                    .collect_view()}
                            </dl>
                        }
                    })}
            </div>
        </article>
    }
}
