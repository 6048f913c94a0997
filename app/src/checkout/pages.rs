//! `/checkout`: a plain form without JavaScript, live totals after hydration.

use super::api::{get_checkout, PlaceOrder};
use crate::accounts::{AddressFields, FieldMessage, FormAlert};
use crate::cart::{cart_version, DiscountCode, DiscountLines};
use crate::layout::ErrorView;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// `/checkout`
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let place = ServerAction::<PlaceOrder>::new();
    let summary = Resource::new(|| (), |_| get_checkout());
    // Keyed on the cart's version: applying or removing a code reprices the summary panel.
    let fresh = Resource::new(cart_version, |version| async move {
        if version == 0 {
            Ok(None)
        } else {
            get_checkout().await.map(Some)
        }
    });
    let error = Signal::derive(move || place.value().get().and_then(Result::err));
    let express = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(placed)) = place.value().get() {
            if let Err(e) = window().location().set_href(&placed.payment_url) {
                leptos::logging::error!("could not open the payment page: {e:?}");
            }
        }
    });
    view! {
        <Title text="Checkout" />
        <Meta name="robots" content="noindex" />
        <Meta
            name="description"
            content="Check out securely at Bazaar: your address, a summary of your order and payment."
        />
        <h1>"Checkout"</h1>
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match summary.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(s) if s.cart.items.is_empty() => {
                        view! {
                            <p class="empty">
                                "Your cart is empty. " <a href="/">"Start shopping"</a>
                            </p>
                        }
                            .into_any()
                    }
                    Ok(s) => {
                        let saved = s.saved_addresses.first().cloned().unwrap_or_default();
                        let panel = s.clone();
                        let free = s.cart.discount.as_ref().is_some_and(|d| d.free_shipping);
                        let price = move |m: types::Money| {
                            if free { "Free".to_owned() } else { m.to_string() }
                        };
                        // A signed-in shopper's first saved address fills the form in.
                        view! {
                            <div class="checkout">
                                <section class="panel" aria-labelledby="details-heading">
                                    <h2 id="details-heading">"Shipping details"</h2>
                                    <FormAlert error />
                                    <ActionForm action=place attr:class="checkout-form">
                                        <input type="hidden" name="token" value=s.token.clone() />
                                        {match s.account_email.clone() {
                                            Some(email) => {
                                                view! {
                                                    <p>
                                                        "Order confirmation goes to " <strong>{email}</strong>
                                                    </p>
                                                }
                                                    .into_any()
                                            }
                                            None => {
                                                view! {
                                                    <label for="checkout-email">"Email"</label>
                                                    <input
                                                        id="checkout-email"
                                                        type="email"
                                                        name="email"
                                                        autocomplete="email"
                                                        required
                                                        maxlength="254"
                                                    />
                                                    <FieldMessage error field="email" />
                                                }
                                                    .into_any()
                                            }
                                        }}
                                        <AddressFields
                                            error
                                            prefix="shipping_address"
                                            error_prefix="shipping_address."
                                            value=saved
                                        />
                                        <fieldset class="shipping-methods">
                                            <legend>"Shipping"</legend>
                                            <div class="variant">
                                                <input
                                                    type="radio"
                                                    id="ship-standard"
                                                    name="shipping_method"
                                                    value="standard"
                                                    checked
                                                    on:change=move |_| express.set(false)
                                                />
                                                <label for="ship-standard">
                                                    {format!("Standard · {}", price(s.standard_shipping))}
                                                </label>
                                            </div>
                                            {s
                                                .express_available
                                                .then(|| {
                                                    view! {
                                                        <div class="variant">
                                                            <input
                                                                type="radio"
                                                                id="ship-express"
                                                                name="shipping_method"
                                                                value="express"
                                                                on:change=move |_| express.set(true)
                                                            />
                                                            <label for="ship-express">
                                                                {format!("Express · {}", price(s.express_shipping))}
                                                            </label>
                                                        </div>
                                                    }
                                                })}
                                            <FieldMessage error field="shipping_method" />
                                        </fieldset>
                                        <button type="submit">"Place order"</button>
                                    </ActionForm>
                                </section>
                                {move || {
                                    let current = fresh
                                        .get()
                                        .and_then(Result::ok)
                                        .flatten()
                                        .unwrap_or_else(|| panel.clone());
                                    // After a code is applied or removed, the panel alone is
                                    // priced again: the form keeps what the shopper typed.
                                    view! { <OrderSummary s=current express /> }
                                }}
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The order summary beside the checkout form: the lines, the discount, tax and the total
/// for the chosen shipping method, and the discount code form.
#[component]
fn OrderSummary(s: types::CheckoutSummary, express: RwSignal<bool>) -> impl IntoView {
    let (standard_total, express_total) = (s.standard_total, s.express_total);
    view! {
        <section class="panel order-summary" aria-labelledby="summary-heading">
            <h2 id="summary-heading">"Order summary"</h2>
            <ul class="summary-lines">
                {s
                    .cart
                    .items
                    .iter()
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
            <p>"Subtotal: " <strong>{s.cart.subtotal.to_string()}</strong></p>
            <DiscountLines cart=s.cart.clone() />
            {(s.tax_bps > 0)
                .then(|| {
                    view! {
                        <p>
                            {format!(
                                "Tax: {}.{:02} % on the goods after discount",
                                s.tax_bps / 100,
                                s.tax_bps % 100,
                            )}
                        </p>
                    }
                })}
            <p class="order-total" data-testid="checkout-total">
                "Total: "
                <strong>
                    {move || {
                        if express.get() {
                            express_total.to_string()
                        } else {
                            standard_total.to_string()
                        }
                    }}
                </strong>
                <span class="hint">
                    {move || {
                        if express.get() {
                            " with express shipping"
                        } else {
                            " with standard shipping"
                        }
                    }}
                </span>
            </p>
            {s
                .express_available
                .then(|| {
                    view! {
                        <p class="hint">{format!("With express shipping: {express_total}")}</p>
                    }
                })}
            <DiscountCode cart=s.cart.clone() from="/checkout" />
        </section>
    }
}
