//! Order pages.

use super::api::{get_order, my_orders};
use crate::cart::LineDiscount;
use crate::layout::ErrorView;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{components::Redirect, hooks::use_params_map};
use types::{AppError, Order, OrderStatus};

/// `/orders`: the shopper's order history.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let orders = Resource::new(|| (), |_| my_orders());
    view! {
        <Title text="Your orders" />
        <Meta name="robots" content="noindex" />
        <h1>"Your orders"</h1>
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match orders.await {
                    Err(AppError::Unauthorized(_)) => {
                        view! { <Redirect path="/login?next=/orders" /> }.into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty">"No orders yet."</p> }.into_any()
                    }
                    Ok(list) => {
                        view! {
                            <table class="orders-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Order"</th>
                                        <th scope="col">"Placed"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Total"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .into_iter()
                                        .map(|o| {
                                            view! {
                                                <tr>
                                                    <td>
                                                        <a href=format!("/orders/{}", o.id)>{o.id.short()}</a>
                                                    </td>
                                                    <td>{o.created_at.chars().take(10).collect::<String>()}</td>
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
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// How the shopper arrived at an order page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Arrival {
    #[default]
    Direct,
    /// Back from the payment page after paying.
    Paid,
    /// Back from the payment page after cancelling.
    Cancelled,
}

/// `/orders/:id`: confirmation and detail.
#[component]
pub fn OrderPage() -> impl IntoView {
    view! { <LiveOrder arrival=Arrival::Direct /> }
}

/// `/checkout/success/:id`: where the payment page sends the shopper after paying.
#[component]
pub fn CheckoutSuccessPage() -> impl IntoView {
    view! { <LiveOrder arrival=Arrival::Paid /> }
}

/// `/checkout/cancelled/:id`: where the payment page sends a shopper who backs out.
#[component]
pub fn CheckoutCancelledPage() -> impl IntoView {
    view! { <LiveOrder arrival=Arrival::Cancelled /> }
}

/// An order whose status follows the payment after hydration, without a reload.
#[component]
fn LiveOrder(arrival: Arrival) -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_order,
    );
    // Poll while the payment is outstanding; webhooks usually land within a second or two.
    Effect::new(move |_| {
        let handle = leptos::leptos_dom::helpers::set_interval_with_handle(
            move || {
                let waiting = order
                    .get_untracked()
                    .and_then(Result::ok)
                    .is_some_and(|o| o.status == OrderStatus::PendingPayment);
                if waiting {
                    order.refetch();
                }
            },
            std::time::Duration::from_secs(2),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    view! {
        <Transition fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match order.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(order) => view! { <OrderView order arrival /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrderView(order: Order, arrival: Arrival) -> impl IntoView {
    let title = format!("Order {}", order.id.short());
    let pending = order.status == OrderStatus::PendingPayment;
    let paid_like = matches!(
        order.status,
        OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Delivered
    );
    let a = order.shipping_address.clone();
    view! {
        <Title text=title.clone() />
        <Meta name="robots" content="noindex" />
        <section class="order">
            <h1>{title}</h1>
            <p>
                "Status: "
                <strong
                    class=format!("status status-{}", order.status.as_str())
                    data-testid="order-status"
                    data-status=order.status.as_str()
                >
                    {order.status.label()}
                </strong>
            </p>
            {(paid_like && arrival == Arrival::Paid)
                .then(|| {
                    view! {
                        <p class="notice" role="status" data-testid="payment-confirmed">
                            "Thank you! Your payment was received and a confirmation is on its way to "
                            {order.email.clone()}
                            "."
                        </p>
                    }
                })}
            {(pending && arrival == Arrival::Paid)
                .then(|| {
                    view! {
                        <p class="notice" role="status">
                            "Thank you! We are confirming your payment; this page updates by itself."
                        </p>
                    }
                })}
            {(pending && arrival == Arrival::Cancelled)
                .then(|| {
                    view! {
                        <p class="notice" role="status">
                            "Payment cancelled. Your order stays reserved for a while if you change your mind."
                        </p>
                    }
                })}
            {(pending && arrival == Arrival::Direct)
                .then(|| {
                    view! {
                        <p class="notice" role="status">
                            "Your order is reserved while we wait for payment. "
                            "A confirmation goes to "
                            {order.email.clone()}
                            " once it is paid."
                        </p>
                    }
                })}
            {order
                .payment_error
                .clone()
                .map(|e| {
                    view! {
                        <p class="form-error" role="alert" data-testid="payment-error">
                            {e}
                            " You can try again."
                        </p>
                    }
                })}
            {order
                .payment_url
                .clone()
                .map(|url| {
                    view! {
                        <p>
                            <a class="button" href=url rel="external" data-testid="pay-now">
                                "Pay now"
                            </a>
                        </p>
                    }
                })}
            <table class="cart-table">
                <thead>
                    <tr>
                        <th scope="col">"Item"</th>
                        <th scope="col">"Price"</th>
                        <th scope="col">"Quantity"</th>
                        <th scope="col">"Total"</th>
                    </tr>
                </thead>
                <tbody>
                    {order
                        .lines
                        .iter()
                        .map(|l| {
                            view! {
                                <tr>
                                    <td>
                                        {l.name.clone()}
                                        <span class="sku">{format!(" ({})", l.sku)}</span>
                                    </td>
                                    <td class="price">{l.unit_price.to_string()}</td>
                                    <td>{l.quantity}</td>
                                    <td class="price">
                                        {l
                                            .unit_price
                                            .checked_mul(l.quantity)
                                            .map(|m| m.to_string())
                                            .unwrap_or_default()} <LineDiscount discount=l.discount />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <dl class="totals">
                <dt>"Subtotal"</dt>
                <dd>{order.subtotal.to_string()}</dd>
                {order
                    .discount
                    .clone()
                    .filter(|d| d.amount.amount > 0)
                    .map(|d| {
                        let off = types::Money::new(-d.amount.amount, d.amount.currency);
                        view! {
                            <dt>{format!("Discount ({})", d.code)}</dt>
                            <dd data-testid="order-discount">{off.to_string()}</dd>
                        }
                    })}
                <dt>{format!("Shipping ({})", order.shipping_method.as_str())}</dt>
                <dd>{order.shipping.to_string()}</dd>
                <dt>"Tax"</dt>
                <dd>{order.tax.to_string()}</dd>
                <dt>"Total"</dt>
                <dd>
                    <strong data-testid="order-total">{order.total.to_string()}</strong>
                </dd>
            </dl>
            <h2>"Shipping to"</h2>
            <p>{a.one_line()}</p>
            {order.tracking_number.clone().map(|t| view! { <p>"Tracking number: " {t}</p> })}
        </section>
    }
}
