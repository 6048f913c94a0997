//! The `/admin` pages: server-rendered forms that work without JavaScript and refresh in
//! place after hydration. Guests are sent to the login page; shoppers get a 403 page.

use super::api::*;
use super::gallery::GalleryPanel;
use super::options::{OptionFields, PrefixMessages};
use crate::accounts::{last_error, FieldMessage, FormAlert};
use crate::layout::ErrorView;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{
    components::{Redirect, A},
    hooks::{use_navigate, use_params_map, use_query_map},
};
use types::admin::{AdminOrderSummary, AdminProduct};
use types::{AppError, OrderStatus};

/// The admin frame: title, navigation, and the page.
#[component]
pub(super) fn AdminFrame(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Admin") />
        <Meta name="robots" content="noindex" />
        <div class="admin">
            <nav class="admin-nav" aria-label="Admin">
                <A href="/admin" exact=true>
                    "Dashboard"
                </A>
                <A href="/admin/products">"Products"</A>
                <A href="/admin/categories">"Categories"</A>
                <A href="/admin/collections">"Collections"</A>
                <A href="/admin/promotions">"Discount codes"</A>
                <A href="/admin/orders">"Orders"</A>
                <A href="/admin/customers">"Customers"</A>
                <A href="/admin/audit">"Audit log"</A>
                <A href="/admin/flags">"Feature flags"</A>
            </nav>
            <section class="admin-main">
                <h1>{title}</h1>
                {children()}
            </section>
        </div>
    }
}

/// What to show when loading failed: the login page for guests, an error page otherwise.
pub(super) fn denied(error: AppError, here: &str) -> AnyView {
    match error {
        AppError::Unauthorized(_) => {
            let path = format!("/login?next={}", types::url_encode(here));
            view! { <Redirect path /> }.into_any()
        }
        error => view! { <ErrorView error /> }.into_any(),
    }
}

fn orders_table(list: Vec<AdminOrderSummary>) -> impl IntoView {
    view! {
        <table class="admin-table orders-table">
            <thead>
                <tr>
                    <th scope="col">"Order"</th>
                    <th scope="col">"Placed"</th>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Items"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Total"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|o| {
                        view! {
                            <tr data-order=o.id.to_string()>
                                <td>
                                    <a href=format!("/admin/orders/{}", o.id)>{o.id.short()}</a>
                                    {o
                                        .review_reason
                                        .map(|r| {
                                            view! {
                                                <span class="flag" title=r>
                                                    " ⚑ review"
                                                </span>
                                            }
                                        })}
                                </td>
                                <td>
                                    {o
                                        .created_at
                                        .chars()
                                        .take(16)
                                        .collect::<String>()
                                        .replace('T', " ")}
                                </td>
                                <td>{o.email}</td>
                                <td>{o.item_count}</td>
                                <td>
                                    <span class=format!(
                                        "status status-{}",
                                        o.status.as_str(),
                                    )>{o.status.label()}</span>
                                </td>
                                <td class="price">{o.total.to_string()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// `/admin`: sales today, this week and this month; the funnel; low stock; latest orders.
#[component]
pub fn AdminDashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| admin_dashboard());
    view! {
        <AdminFrame title="Dashboard">
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin"),
                        Ok(d) => {
                            view! {
                                <div class="kpis">
                                    {d
                                        .periods
                                        .into_iter()
                                        .map(|p| {
                                            view! {
                                                <div class="kpi panel">
                                                    <h2>{p.label}</h2>
                                                    <p class="kpi-value">{p.revenue.to_string()}</p>
                                                    <p>
                                                        {format!("{} orders, {} paid", p.orders, p.paid_orders)}
                                                    </p>
                                                </div>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                                <section class="panel">
                                    <h2>"Funnel (30 days)"</h2>
                                    <ol class="funnel">
                                        {d
                                            .funnel
                                            .into_iter()
                                            .map(|(step, n)| {
                                                view! { <li>{step} ": " <strong>{n}</strong></li> }
                                            })
                                            .collect_view()}
                                    </ol>
                                </section>
                                <section class="panel">
                                    <h2>"Low stock"</h2>
                                    {if d.low_stock.is_empty() {
                                        view! { <p>"Every SKU has more than 5 units."</p> }
                                            .into_any()
                                    } else {
                                        view! {
                                            <ul class="low-stock">
                                                {d
                                                    .low_stock
                                                    .into_iter()
                                                    .map(|(sku, name, stock)| {
                                                        view! {
                                                            <li>
                                                                <code>{sku}</code>
                                                                " "
                                                                {name}
                                                                ": "
                                                                <strong>{stock}</strong>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                </section>
                                <section class="panel">
                                    <h2>"Recent orders"</h2>
                                    {orders_table(d.recent)}
                                </section>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// `/admin/products`: search and filter every product, archived ones too.
#[component]
pub fn AdminProductsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("q"), q.get("category"), q.get("status"))
        },
        |(q, category, status)| admin_products(q, category, status),
    );
    view! {
        <AdminFrame title="Products">
            <p>
                <a class="button" href="/admin/products/new">
                    "New product"
                </a>
            </p>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/products"),
                        Ok((list, categories)) => {
                            let q = query.read_untracked();
                            let (cur_q, cur_cat, cur_status) = (
                                q.get("q").unwrap_or_default(),
                                q.get("category").unwrap_or_default(),
                                q.get("status").unwrap_or_default(),
                            );
                            view! {
                                <form method="get" action="/admin/products" class="filters">
                                    <label for="pq">"Search"</label>
                                    <input
                                        id="pq"
                                        type="search"
                                        name="q"
                                        value=cur_q
                                        placeholder="Name, slug or SKU"
                                    />
                                    <label for="pc">"Category"</label>
                                    <select id="pc" name="category">
                                        <option value="">"All"</option>
                                        {categories
                                            .into_iter()
                                            .map(|c| {
                                                let selected = c.slug == cur_cat;
                                                view! {
                                                    <option value=c.slug.clone() selected=selected>
                                                        {c.name}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <label for="ps">"Status"</label>
                                    <select id="ps" name="status">
                                        {[
                                            ("", "All"),
                                            ("active", "Active"),
                                            ("archived", "Archived"),
                                        ]
                                            .into_iter()
                                            .map(|(v, l)| {
                                                let selected = v == cur_status;
                                                view! {
                                                    <option value=v selected=selected>
                                                        {l}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <button type="submit">"Filter"</button>
                                </form>
                                <table class="admin-table products-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Product"</th>
                                            <th scope="col">"Category"</th>
                                            <th scope="col">"SKUs"</th>
                                            <th scope="col">"Stock"</th>
                                            <th scope="col">"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|p| {
                                                view! {
                                                    <tr>
                                                        <td>
                                                            <a href=format!(
                                                                "/admin/products/{}",
                                                                p.slug,
                                                            )>{p.name.clone()}</a>
                                                        </td>
                                                        <td>{p.category.clone()}</td>
                                                        <td>
                                                            {p
                                                                .variants
                                                                .iter()
                                                                .map(|v| v.sku.clone())
                                                                .collect::<Vec<_>>()
                                                                .join(", ")}
                                                        </td>
                                                        <td>{p.variants.iter().map(|v| v.stock).sum::<i64>()}</td>
                                                        <td>{if p.active { "Active" } else { "Archived" }}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// A hint that follows an input as it is typed, from the same parser the server applies
/// (`types` compiles to WASM); an empty field says nothing. Without JavaScript the
/// server's answer shows the same message.
fn live_check(
    parse: fn(&str) -> Result<(), String>,
) -> (
    impl Fn() -> String + Copy + Send + Sync + 'static,
    impl Fn(leptos::ev::Event) + Clone + 'static,
) {
    let hint = RwSignal::new(String::new());
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let message = if value.trim().is_empty() {
            Ok(())
        } else {
            parse(&value)
        };
        hint.set(message.err().unwrap_or_default());
    };
    (move || hint.get(), on_input)
}

/// One variant row of the product form, as it is filled in.
#[derive(Clone, Default)]
struct VariantRow {
    sku: String,
    name: String,
    price: String,
    stock: String,
    /// The stock the page shows for a saved variant.
    stock_was: Option<String>,
    options: String,
}

/// The product form, for a new product (`product` is `None`) or an existing one.
#[component]
fn ProductEditor(
    product: Option<AdminProduct>,
    categories: Vec<types::CategorySummary>,
) -> impl IntoView {
    let save = ServerAction::<SaveProduct>::new();
    let error = last_error(save.value());
    let navigate = use_navigate();
    let original = product.as_ref().map(|p| p.slug.clone()).unwrap_or_default();
    // After a save in place, follow the product to its (possibly new) address.
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            navigate(
                &format!("/admin/products/{}?saved=1", saved.slug),
                Default::default(),
            );
        }
    });
    let p = product.clone();
    let mut rows: Vec<VariantRow> = p
        .as_ref()
        .map(|p| {
            p.variants
                .iter()
                .map(|v| VariantRow {
                    sku: v.sku.clone(),
                    name: v.name.clone(),
                    price: v.price.to_plain(),
                    stock: v.stock.to_string(),
                    stock_was: Some(v.stock.to_string()),
                    options: types::options::pairs_to_lines(&v.options, "; "),
                })
                .collect()
        })
        .unwrap_or_default();
    // Room to add variants.
    rows.push(Default::default());
    if p.is_none() {
        rows.push(Default::default());
    }
    let current_category = p.as_ref().map(|p| p.category.clone()).unwrap_or_default();
    let (slug_hint, check_slug) =
        live_check(|v| types::Slug::parse(v).map(|_| ()).map_err(|e| e.to_string()));
    view! {
        <ActionForm action=save attr:class="product-form">
            <FormAlert error />
            <input type="hidden" name="original_slug" value=original />
            <label for="pf-name">"Name"</label>
            <input
                id="pf-name"
                name="form[name]"
                required
                maxlength="200"
                value=p.as_ref().map(|p| p.name.clone())
            />
            <FieldMessage error field="name" />
            <label for="pf-slug">"Slug"</label>
            <input
                id="pf-slug"
                name="form[slug]"
                value=p.as_ref().map(|p| p.slug.clone())
                placeholder="made from the name when empty"
                on:input=check_slug
            />
            <p class="field-hint" aria-live="polite">
                {slug_hint}
            </p>
            <FieldMessage error field="slug" />
            <label for="pf-description">"Description"</label>
            <textarea id="pf-description" name="form[description]" rows="5">
                {p.as_ref().map(|p| crate::raw_text(p.description.clone()))}
            </textarea>
            <FieldMessage error field="description" />
            <label for="pf-category">"Category"</label>
            <select id="pf-category" name="form[category]" required>
                {categories
                    .into_iter()
                    .map(|c| {
                        let selected = c.slug == current_category;
                        view! {
                            <option value=c.slug.clone() selected=selected>
                                {c.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <FieldMessage error field="category" />
            <p class="checkbox">
                <input
                    id="pf-active"
                    type="checkbox"
                    name="form[active]"
                    value="on"
                    checked=p.as_ref().is_none_or(|p| p.active)
                />
                <label for="pf-active">"Active (shown in the shop)"</label>
            </p>
            <OptionFields
                options=p.as_ref().map(|p| p.options.clone()).unwrap_or_default()
                attributes=p.as_ref().map(|p| p.attributes.clone()).unwrap_or_default()
                error
            />
            <fieldset class="variants">
                <legend>"Variants"</legend>
                <FieldMessage error field="variants" />
                <table class="admin-table">
                    <thead>
                        <tr>
                            <th scope="col">"SKU"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Price (USD)"</th>
                            <th scope="col">"Stock"</th>
                            <th scope="col">"Options"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .enumerate()
                            .map(|(i, VariantRow { sku, name, price, stock, stock_was, options })| {
                                let (sku_hint, check_sku) = live_check(|v| {
                                    types::Sku::parse(v).map(|_| ()).map_err(|e| e.to_string())
                                });
                                let (price_hint, check_price) = live_check(|v| {
                                    types::Money::parse_major(v, types::Currency::USD)
                                        .map(|_| ())
                                        .map_err(|e| e.to_string())
                                });
                                view! {
                                    <tr>
                                        <td>
                                            <input
                                                aria-label=format!("SKU {}", i + 1)
                                                name=format!("form[variants][{i}][sku]")
                                                value=sku
                                                on:input=check_sku
                                            />
                                            <p class="field-hint" aria-live="polite">
                                                {sku_hint}
                                            </p>
                                            <FieldMessage error field=format!("variants[{i}].sku") />
                                        </td>
                                        <td>
                                            <input
                                                aria-label=format!("Variant name {}", i + 1)
                                                name=format!("form[variants][{i}][name]")
                                                value=name
                                            />
                                            <FieldMessage error field=format!("variants[{i}].name") />
                                        </td>
                                        <td>
                                            <input
                                                aria-label=format!("Price {}", i + 1)
                                                name=format!("form[variants][{i}][price]")
                                                inputmode="decimal"
                                                value=price
                                                on:input=check_price
                                            />
                                            <p class="field-hint" aria-live="polite">
                                                {price_hint}
                                            </p>
                                            <FieldMessage error field=format!("variants[{i}].price") />
                                        </td>
                                        <td>
                                            <input
                                                aria-label=format!("Stock {}", i + 1)
                                                name=format!("form[variants][{i}][stock]")
                                                inputmode="numeric"
                                                value=stock
                                            />
                                            // What the page showed: the server writes a new value only if nothing sold meanwhile.
                                            {stock_was
                                                .map(|was| {
                                                    view! {
                                                        <input
                                                            type="hidden"
                                                            name=format!("form[variants][{i}][stock_was]")
                                                            value=was
                                                        />
                                                    }
                                                })}
                                            <FieldMessage error field=format!("variants[{i}].stock") />
                                        </td>
                                        <td>
                                            <input
                                                aria-label=format!("Options {}", i + 1)
                                                name=format!("form[variants][{i}][options]")
                                                placeholder="Size: M"
                                                value=options
                                            />
                                            <PrefixMessages
                                                error
                                                prefix=format!("variants[{i}].options")
                                            />
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </fieldset>
            <button type="submit">
                {if product.is_some() { "Save product" } else { "Create product" }}
            </button>
        </ActionForm>
    }
}

/// `/admin/products/new`
#[component]
pub fn AdminNewProductPage() -> impl IntoView {
    let categories = Resource::new(|| (), |_| admin_categories());
    view! {
        <AdminFrame title="New product">
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match categories.await {
                        Err(e) => denied(e, "/admin/products/new"),
                        Ok(categories) => {
                            view! { <ProductEditor product=None categories /> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// `/admin/products/:slug`: edit, image, stock and archive.
#[component]
pub fn AdminProductPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let adjust = ServerAction::<AdjustStock>::new();
    let archive = ServerAction::<ArchiveProduct>::new();
    let adjust_error = last_error(adjust.value());
    let archive_error = last_error(archive.value());
    let data = Resource::new(
        move || {
            (
                params.read().get("slug").unwrap_or_default(),
                adjust.version().get(),
                archive.version().get(),
            )
        },
        |(slug, _, _)| admin_product_detail(slug),
    );
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let here = format!(
                    "/admin/products/{}",
                    params.read_untracked().get("slug").unwrap_or_default(),
                );
                match data.await {
                    Err(e) => denied(e, &here),
                    Ok((product, history, categories)) => {
                        let slug = product.slug.clone();
                        let archive_slug = slug.clone();
                        let q = query.read_untracked();
                        let notice = q
                            .get("saved")
                            .map(|_| "Saved.")
                            .or(
                                q
                                    .get("image")
                                    .map(|v| {
                                        match v.as_str() {
                                            "removed" => "Image removed.",
                                            "added" => "Image added.",
                                            _ => "Image uploaded.",
                                        }
                                    }),
                            );
                        let image_error = q.get("image_error");
                        view! {
                            <AdminFrame title=product
                                .name
                                .clone()>
                                {notice
                                    .map(|n| {
                                        view! {
                                            <p class="notice" role="status">
                                                {n}
                                            </p>
                                        }
                                    })} <p>
                                    <a href=format!("/products/{slug}")>"View in the shop"</a>
                                    {(!product.active)
                                        .then(|| {
                                            view! {
                                                " · "
                                                <strong>"Archived"</strong>
                                            }
                                        })}
                                </p> <div class="admin-columns">
                                    <section class="panel">
                                        <h2>"Details"</h2>
                                        <ProductEditor product=Some(product.clone()) categories />
                                    </section>
                                    <section class="panel">
                                        <h2>"Images"</h2>
                                        {image_error
                                            .map(|e| {
                                                view! {
                                                    <p class="form-alert" role="alert">
                                                        {e}
                                                    </p>
                                                }
                                            })}
                                        <GalleryPanel
                                            slug=slug.clone()
                                            images=product.images.clone()
                                        />
                                        <h2>"Adjust stock"</h2>
                                        <ActionForm action=adjust attr:class="adjust-form">
                                            <FormAlert error=adjust_error />
                                            <input type="hidden" name="slug" value=slug.clone() />
                                            <label for="adj-sku">"SKU"</label>
                                            <select id="adj-sku" name="sku">
                                                {product
                                                    .variants
                                                    .iter()
                                                    .map(|v| {
                                                        view! {
                                                            <option value=v
                                                                .sku
                                                                .clone()>
                                                                {format!("{} ({} in stock)", v.sku, v.stock)}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </select>
                                            <label for="adj-delta">"Change (e.g. 10 or -2)"</label>
                                            <input
                                                id="adj-delta"
                                                name="delta"
                                                inputmode="numeric"
                                                required
                                            />
                                            <FieldMessage error=adjust_error field="delta" />
                                            <label for="adj-reason">"Reason"</label>
                                            <input
                                                id="adj-reason"
                                                name="reason"
                                                required
                                                maxlength="500"
                                            />
                                            <FieldMessage error=adjust_error field="reason" />
                                            <button type="submit">"Adjust stock"</button>
                                        </ActionForm>
                                        <h2>"Stock history"</h2>
                                        <table class="admin-table history">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"When"</th>
                                                    <th scope="col">"SKU"</th>
                                                    <th scope="col">"Change"</th>
                                                    <th scope="col">"After"</th>
                                                    <th scope="col">"Reason"</th>
                                                    <th scope="col">"Who"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {history
                                                    .into_iter()
                                                    .map(|h| {
                                                        view! {
                                                            <tr>
                                                                <td>
                                                                    {h
                                                                        .at
                                                                        .chars()
                                                                        .take(16)
                                                                        .collect::<String>()
                                                                        .replace('T', " ")}
                                                                </td>
                                                                <td>{h.sku}</td>
                                                                <td>{format!("{:+}", h.delta)}</td>
                                                                <td>{h.stock_after}</td>
                                                                <td>{h.reason}</td>
                                                                <td>{h.actor}</td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                        {product
                                            .active
                                            .then(|| {
                                                view! {
                                                    <ActionForm action=archive attr:class="archive-form">
                                                        <FormAlert error=archive_error />
                                                        <input type="hidden" name="slug" value=archive_slug />
                                                        <button type="submit" class="danger">
                                                            "Archive product"
                                                        </button>
                                                    </ActionForm>
                                                }
                                            })}
                                    </section>
                                </div>
                            </AdminFrame>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/orders`: by status and date.
#[component]
pub fn AdminOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("status"), q.get("from"), q.get("to"))
        },
        |(status, from, to)| admin_orders(status, from, to),
    );
    view! {
        <AdminFrame title="Orders">
            {move || {
                let q = query.read();
                let (status, from, to) = (
                    q.get("status").unwrap_or_default(),
                    q.get("from").unwrap_or_default(),
                    q.get("to").unwrap_or_default(),
                );
                view! {
                    <form method="get" action="/admin/orders" class="filters">
                        <label for="os">"Status"</label>
                        <select id="os" name="status">
                            <option value="">"All"</option>
                            {[
                                OrderStatus::PendingPayment,
                                OrderStatus::Paid,
                                OrderStatus::Shipped,
                                OrderStatus::Delivered,
                                OrderStatus::Cancelled,
                                OrderStatus::Refunded,
                            ]
                                .into_iter()
                                .map(|s| {
                                    let selected = s.as_str() == status;
                                    view! {
                                        <option value=s.as_str() selected=selected>
                                            {s.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <label for="of">"From"</label>
                        <input id="of" type="date" name="from" value=from />
                        <label for="ot">"To"</label>
                        <input id="ot" type="date" name="to" value=to />
                        <button type="submit">"Filter"</button>
                    </form>
                }
            }}
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/orders"),
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No orders match."</p> }.into_any()
                        }
                        Ok(list) => orders_table(list).into_any(),
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// `/admin/orders/:id`: detail and the actions its status allows.
#[component]
pub fn AdminOrderPage() -> impl IntoView {
    let params = use_params_map();
    let ship = ServerAction::<ShipOrder>::new();
    let act = ServerAction::<OrderAction>::new();
    let ship_error = last_error(ship.value());
    let act_error = last_error(act.value());
    let data = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                ship.version().get(),
                act.version().get(),
            )
        },
        |(id, _, _)| admin_order(id),
    );
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let here = format!(
                    "/admin/orders/{}",
                    params.read_untracked().get("id").unwrap_or_default(),
                );
                match data.await {
                    Err(e) => denied(e, &here),
                    Ok((order, review, history)) => {
                        let id = order.id.to_string();
                        let status = order.status;
                        let action_button = move |
                            action: &'static str,
                            label: &'static str,
                            class: &'static str|
                        {
                            let id = id.clone();
                            view! {
                                <ActionForm action=act attr:class="order-action">
                                    <input type="hidden" name="id" value=id />
                                    <input type="hidden" name="action" value=action />
                                    <button type="submit" class=class>
                                        {label}
                                    </button>
                                </ActionForm>
                            }
                        };
                        let order_id = order.id.to_string();
                        view! {
                            <AdminFrame title=format!("Order {}", order.id.short())>
                                <p>
                                    "Status: "
                                    <strong
                                        class=format!("status status-{}", status.as_str())
                                        data-testid="admin-order-status"
                                        data-status=status.as_str()
                                    >
                                        {status.label()}
                                    </strong>
                                </p>
                                {review
                                    .map(|r| {
                                        view! {
                                            <p class="form-alert" role="alert">
                                                "Needs review: "
                                                {r}
                                            </p>
                                        }
                                    })}
                                <p>
                                    {order.email.clone()} " · " {order.shipping_address.one_line()}
                                    " · " {order.shipping_method.as_str()} " shipping"
                                </p>
                                {order
                                    .tracking_number
                                    .clone()
                                    .map(|t| view! { <p>"Tracking number: " <code>{t}</code></p> })}
                                <table class="admin-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Item"</th>
                                            <th scope="col">"Qty"</th>
                                            <th scope="col">"Price"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {order
                                            .lines
                                            .iter()
                                            .map(|l| {
                                                view! {
                                                    <tr>
                                                        <td>{l.name.clone()} " (" {l.sku.clone()} ")"</td>
                                                        <td>{l.quantity}</td>
                                                        <td class="price">{l.unit_price.to_string()}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                <p>"Total: " <strong>{order.total.to_string()}</strong></p>
                                <section class="panel order-actions">
                                    <h2>"Actions"</h2>
                                    <FormAlert error=act_error />
                                    {(status == OrderStatus::Paid)
                                        .then(|| {
                                            view! {
                                                <ActionForm action=ship attr:class="ship-form">
                                                    <FormAlert error=ship_error />
                                                    <input type="hidden" name="id" value=order_id.clone() />
                                                    <label for="tracking">"Tracking number"</label>
                                                    <input
                                                        id="tracking"
                                                        name="tracking_number"
                                                        required
                                                        minlength="3"
                                                        maxlength="100"
                                                    />
                                                    <FieldMessage error=ship_error field="tracking_number" />
                                                    <button type="submit">"Mark shipped"</button>
                                                </ActionForm>
                                            }
                                        })}
                                    {(status == OrderStatus::Shipped)
                                        .then(|| action_button("deliver", "Mark delivered", ""))}
                                    {matches!(
                                        status,
                                        OrderStatus::PendingPayment | OrderStatus::Paid
                                    )
                                        .then(|| action_button("cancel", "Cancel order", "danger"))}
                                    {status
                                        .can_become(OrderStatus::Refunded)
                                        .then(|| action_button(
                                            "refund",
                                            "Refund in full",
                                            "danger",
                                        ))}
                                </section>
                                <h2>"History"</h2>
                                <ol class="history">
                                    {history
                                        .into_iter()
                                        .map(|(to, reason, at)| {
                                            view! {
                                                <li>
                                                    {at.chars().take(16).collect::<String>().replace('T', " ")}
                                                    " — " {to} " (" {reason} ")"
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ol>
                            </AdminFrame>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/customers`: orders, spend and the admin role.
#[component]
pub fn AdminCustomersPage() -> impl IntoView {
    let query = use_query_map();
    let role = ServerAction::<SetAdmin>::new();
    let role_error = last_error(role.value());
    let data = Resource::new(
        move || (query.read().get("q"), role.version().get()),
        |(q, _)| admin_customers(q),
    );
    view! {
        <AdminFrame title="Customers">
            <form method="get" action="/admin/customers" class="filters">
                <label for="cq">"Search"</label>
                <input
                    id="cq"
                    type="search"
                    name="q"
                    value=move || query.read().get("q").unwrap_or_default()
                />
                <button type="submit">"Search"</button>
            </form>
            <FormAlert error=role_error />
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/customers"),
                        Ok(list) => {
                            view! {
                                <table class="admin-table customers-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Customer"</th>
                                            <th scope="col">"Email"</th>
                                            <th scope="col">"Orders"</th>
                                            <th scope="col">"Spent"</th>
                                            <th scope="col">"Role"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|c| {
                                                view! {
                                                    <tr data-email=c.email.clone()>
                                                        <td>{c.name}</td>
                                                        <td>{c.email.clone()}</td>
                                                        <td>{c.orders}</td>
                                                        <td class="price">{c.spent.to_string()}</td>
                                                        <td>
                                                            {if c.is_admin { "Admin" } else { "Customer" }}
                                                            <ActionForm action=role attr:class="role-form">
                                                                <input
                                                                    type="hidden"
                                                                    name="user_id"
                                                                    value=c.id.to_string()
                                                                />
                                                                <input
                                                                    type="hidden"
                                                                    name="admin"
                                                                    value=if c.is_admin { "false" } else { "true" }
                                                                />
                                                                <button type="submit" class="link-button">
                                                                    {if c.is_admin { "Revoke admin" } else { "Make admin" }}
                                                                </button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// `/admin/audit`: every admin action, newest first.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| audit_log());
    view! {
        <AdminFrame title="Audit log">
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/audit"),
                        Ok(list) => {
                            view! {
                                <table class="admin-table audit-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"Action"</th>
                                            <th scope="col">"On"</th>
                                            <th scope="col">"Details"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|a| {
                                                view! {
                                                    <tr>
                                                        <td>
                                                            {a
                                                                .at
                                                                .chars()
                                                                .take(19)
                                                                .collect::<String>()
                                                                .replace('T', " ")}
                                                        </td>
                                                        <td>{a.actor}</td>
                                                        <td>
                                                            <code>{a.action}</code>
                                                        </td>
                                                        <td>{a.target}</td>
                                                        <td>
                                                            <code>{a.details}</code>
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// `/admin/flags`: switch features on and off without a deploy.
#[component]
pub fn AdminFlagsPage() -> impl IntoView {
    let set = ServerAction::<SetFlag>::new();
    let error = last_error(set.value());
    let data = Resource::new(move || set.version().get(), |_| feature_flags());
    view! {
        <AdminFrame title="Feature flags">
            <FormAlert error />
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/flags"),
                        Ok(flags) => {
                            view! {
                                <ul class="flags">
                                    {flags
                                        .into_iter()
                                        .map(|f| {
                                            let key = f.key.clone();
                                            let next = if f.enabled { "false" } else { "true" };
                                            view! {
                                                <li data-flag=f.key.clone()>
                                                    <strong>{f.key.clone()}</strong>
                                                    " — "
                                                    {f.description}
                                                    " · "
                                                    <span class="flag-state">
                                                        {if f.enabled { "On" } else { "Off" }}
                                                    </span>
                                                    {f
                                                        .updated_by
                                                        .map(|u| {
                                                            view! { <span class="hint">" (last set by " {u} ")"</span> }
                                                        })}
                                                    <ActionForm action=set attr:class="flag-form">
                                                        <input type="hidden" name="key" value=key />
                                                        <input type="hidden" name="enabled" value=next />
                                                        <button type="submit">
                                                            {if next == "false" { "Turn off" } else { "Turn on" }}
                                                        </button>
                                                    </ActionForm>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}
