//! The discount code on the cart and checkout pages: a form that works without
//! JavaScript, the code in use with a way to take it off, and what it takes off.

use super::api::{ApplyDiscount, RemoveDiscount};
use super::pages::CartVersion;
use crate::accounts::{FieldMessage, FormAlert};
use leptos::prelude::*;
use types::{Cart, Money};

/// The code field, or the code in use with "Remove code"; `from` is the page a form
/// posted without JavaScript comes back to (`/cart` or `/checkout`).
#[component]
pub fn DiscountCode(cart: Cart, from: &'static str) -> impl IntoView {
    let apply = ServerAction::<ApplyDiscount>::new();
    let remove = ServerAction::<RemoveDiscount>::new();
    // Only a change reprices the cart: a refused code keeps this form, and its message, up.
    if let Some(CartVersion(version)) = use_context::<CartVersion>() {
        Effect::new(move |_| {
            let applied = matches!(apply.value().get(), Some(Ok(_)));
            let removed = matches!(remove.value().get(), Some(Ok(_)));
            if applied || removed {
                version.update(|n| *n += 1);
            }
        });
    }
    let error = Signal::derive(move || apply.value().get().and_then(Result::err));
    let held = cart.discount.is_some() || cart.discount_note.is_some();
    view! {
        <section class="discount-code" aria-labelledby="discount-heading">
            <h2 id="discount-heading">"Discount code"</h2>
            {cart
                .discount
                .map(|d| {
                    view! {
                        <p class="discount-applied" role="status">
                            <strong data-testid="discount-code">{d.code}</strong>
                            " · "
                            {d.label}
                        </p>
                    }
                })}
            {cart
                .discount_note
                .map(|note| {
                    view! {
                        <p class="notice" role="status">
                            {note}
                        </p>
                    }
                })}
            {if held {
                view! {
                    <ActionForm action=remove attr:class="inline-form">
                        <input type="hidden" name="from" value=from />
                        <button type="submit" class="link-button">
                            "Remove code"
                        </button>
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! {
                    <FormAlert error />
                    <ActionForm action=apply attr:class="discount-form">
                        <input type="hidden" name="from" value=from />
                        <label for="discount-code-input">"Code"</label>
                        <input
                            id="discount-code-input"
                            type="text"
                            name="code"
                            autocomplete="off"
                            autocapitalize="characters"
                            maxlength="32"
                            required
                        />
                        <button type="submit">"Apply"</button>
                    </ActionForm>
                    <FieldMessage error field="code" />
                }
                    .into_any()
            }}
        </section>
    }
}

/// The discount's lines in a summary: what the code takes off, and the goods after it.
#[component]
pub fn DiscountLines(cart: Cart) -> impl IntoView {
    cart.discount.map(|d| {
        let off = Money::new(-d.amount.amount, d.amount.currency);
        view! {
            {(d.amount.amount > 0)
                .then(|| {
                    view! {
                        <p class="cart-discount">
                            {format!("Discount ({}): ", d.code)}
                            <strong data-testid="cart-discount">{off.to_string()}</strong>
                        </p>
                    }
                })}
            {d
                .free_shipping
                .then(|| {
                    view! { <p class="cart-discount">{format!("Free shipping ({})", d.code)}</p> }
                })}
        }
    })
}

/// A line's share of the discount, under its total ("-$1.50 with code"), when it has one.
#[component]
pub fn LineDiscount(discount: Option<Money>) -> impl IntoView {
    discount.map(|d| {
        view! {
            <span class="line-discount">
                {format!("{} with code", Money::new(-d.amount, d.currency))}
            </span>
        }
    })
}
