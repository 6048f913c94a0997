//! Cart pages and widgets. Forms post without JavaScript and update in place with it.

use super::api::{get_cart, AddToCart, SetCartLine};
use super::discount::{DiscountCode, DiscountLines, LineDiscount};
use crate::accounts::{FieldMessage, FormAlert};
use crate::layout::ErrorView;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use types::{AppError, Cart};

/// Bumped whenever the cart changes, so the badge and cart views refetch.
#[derive(Clone, Copy)]
pub struct CartVersion(pub RwSignal<u64>);

fn bump_on<V>(version: V)
where
    V: Get<Value = usize> + Send + Sync + 'static,
{
    if let Some(CartVersion(v)) = use_context::<CartVersion>() {
        Effect::new(move |prev: Option<usize>| {
            let now = version.get();
            if prev.is_some_and(|p| p != now) {
                v.update(|n| *n += 1);
            }
            now
        });
    }
}

/// The cart's version, read reactively: views keyed on it refetch after a cart change.
pub fn cart_version() -> u64 {
    use_context::<CartVersion>()
        .map(|CartVersion(v)| v.get())
        .unwrap_or(0)
}

/// The header's mini-cart: the item count, and on opening the lines, subtotal and a link
/// to the cart. A `<details>` element, so it opens without JavaScript too.
#[component]
pub fn CartBadge(cart: Cart) -> impl IntoView {
    let n = cart.item_count;
    view! {
        <details class="mini-cart">
            <summary class="cart-badge">
                "Cart "
                <span
                    class="cart-count"
                    data-testid="cart-count"
                    aria-label=format!("{n} items in cart")
                >
                    {n}
                </span>
            </summary>
            <div class="mini-cart-panel">
                {if cart.items.is_empty() {
                    view! { <p>"Your cart is empty."</p> }.into_any()
                } else {
                    view! {
                        <ul>
                            {cart
                                .items
                                .into_iter()
                                .map(|l| {
                                    view! {
                                        <li>
                                            <span>{format!("{} × {}", l.quantity, l.name)}</span>
                                            <span class="price">{l.line_total.to_string()}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        <p>"Subtotal: " <strong>{cart.subtotal.to_string()}</strong></p>
                    }
                        .into_any()
                }} <p>
                    <a href="/cart">"View cart"</a>
                    " · "
                    <a href="/checkout">"Checkout"</a>
                </p>
            </div>
        </details>
    }
}

/// Quantity and "Add to cart" for one variant.
#[component]
pub fn AddToCartForm(
    #[prop(into)] sku: Signal<String>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let action = ServerAction::<AddToCart>::new();
    bump_on(action.version());
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let added = move || matches!(action.value().get(), Some(Ok(_)));
    view! {
        <ActionForm action attr:class="add-to-cart">
            <input type="hidden" name="sku" value=move || sku.get() />
            <label for="add-quantity">"Quantity"</label>
            <input
                id="add-quantity"
                type="number"
                name="quantity"
                value="1"
                min="1"
                max="99"
                required
            />
            <button type="submit" disabled=move || disabled.get()>
                "Add to cart"
            </button>
        </ActionForm>
        <FormAlert error />
        <FieldMessage error field="quantity" />
        {move || {
            added()
                .then(|| {
                    view! {
                        <p class="notice" role="status">
                            "Added to your cart. "
                            <a href="/cart">"View cart"</a>
                        </p>
                    }
                })
        }}
    }
}

/// `/cart`
#[component]
pub fn CartPage() -> impl IntoView {
    let set = ServerAction::<SetCartLine>::new();
    bump_on(set.version());
    let cart = Resource::new(
        move || (set.version().get(), cart_version()),
        |_| get_cart(),
    );
    let error = Signal::derive(move || set.value().get().and_then(Result::err));
    view! {
        <Title text="Your cart" />
        <Meta name="robots" content="noindex" />
        <Meta
            name="description"
            content="Your Bazaar shopping cart: change quantities, remove items and go to checkout."
        />
        <h1>"Your cart"</h1>
        <FormAlert error />
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match cart.await {
                    Err(error @ AppError::Unavailable(_)) => {
                        view! {
                            <p class="form-alert" role="alert">
                                {error.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(cart) if cart.items.is_empty() => {
                        view! {
                            <p class="empty">
                                "Your cart is empty. " <a href="/">"Start shopping"</a>
                            </p>
                        }
                            .into_any()
                    }
                    Ok(cart) => {
                        let whole = cart.clone();
                        let summary = cart.clone();
                        view! {
                            <table class="cart-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Item"</th>
                                        <th scope="col">"Price"</th>
                                        <th scope="col">"Quantity"</th>
                                        <th scope="col">"Total"</th>
                                        <th scope="col">
                                            <span class="visually-hidden">"Remove"</span>
                                        </th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {cart
                                        .items
                                        .into_iter()
                                        .map(|line| {
                                            let id = format!("qty-{}", line.sku.to_lowercase());
                                            let (sku_update, sku_remove) = (
                                                line.sku.clone(),
                                                line.sku.clone(),
                                            );
                                            let label = format!("Quantity of {}", line.name);
                                            view! {
                                                <tr data-sku=line.sku.clone()>
                                                    <td>
                                                        {line.name.clone()}
                                                        {(!line.options.is_empty())
                                                            .then(|| {
                                                                view! {
                                                                    <span class="line-options">
                                                                        {types::options::pairs_to_lines(&line.options, ", ")}
                                                                    </span>
                                                                }
                                                            })}
                                                        {(line.quantity > line.available)
                                                            .then(|| {
                                                                view! {
                                                                    <span class="badge out">
                                                                        {format!("Only {} left", line.available)}
                                                                    </span>
                                                                }
                                                            })}
                                                    </td>
                                                    <td class="price">{line.unit_price.to_string()}</td>
                                                    <td>
                                                        <ActionForm action=set attr:class="inline-form qty-form">
                                                            <input type="hidden" name="sku" value=sku_update />
                                                            <label for=id.clone() class="visually-hidden">
                                                                {label}
                                                            </label>
                                                            <input
                                                                id=id
                                                                type="number"
                                                                name="quantity"
                                                                value=line.quantity.to_string()
                                                                min="0"
                                                                max="99"
                                                            />
                                                            <button type="submit">"Update"</button>
                                                        </ActionForm>
                                                    </td>
                                                    <td class="price line-total">
                                                        {line.line_total.to_string()}
                                                        <LineDiscount discount=line.discount />
                                                    </td>
                                                    <td>
                                                        <ActionForm action=set attr:class="inline-form">
                                                            <input type="hidden" name="sku" value=sku_remove />
                                                            <input type="hidden" name="quantity" value="0" />
                                                            <button type="submit" class="link-button">
                                                                "Remove"
                                                            </button>
                                                        </ActionForm>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <p class="cart-subtotal">
                                "Subtotal: "
                                <strong data-testid="cart-subtotal">
                                    {cart.subtotal.to_string()}
                                </strong>
                            </p>
                            <DiscountLines cart=summary />
                            {(cart.total != cart.subtotal)
                                .then(|| {
                                    view! {
                                        <p class="cart-subtotal">
                                            "Total before shipping: "
                                            <strong data-testid="cart-total">
                                                {cart.total.to_string()}
                                            </strong>
                                        </p>
                                    }
                                })}
                            <DiscountCode cart=whole from="/cart" />
                            <p>
                                <a class="button" href="/checkout">
                                    "Checkout"
                                </a>
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
