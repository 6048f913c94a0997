//! Order pages.

use super::api::{get_order, my_orders};
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
        <Title text="Your orders"/>
        <Meta name="robots" content="noindex"/>
        <h1>"Your orders"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match orders.await {
                    Err(AppError::Unauthorized(_)) => view! { <Redirect path="/login?next=/orders"/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No orders yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="orders-table">
                            <thead><tr><th scope="col">"Order"</th><th scope="col">"Placed"</th><th scope="col">"Status"</th><th scope="col">"Total"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|o| view! {
                                    <tr>
                                        <td><a href=format!("/orders/{}", o.id)>{short_id(&o.id)}</a></td>
                                        <td>{o.created_at.chars().take(10).collect::<String>()}</td>
                                        <td><span class=format!("status status-{}", o.status.as_str())>{o.status.label()}</span></td>
                                        <td class="price">{o.total.to_string()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn short_id(id: &str) -> String {
    format!("#{}", id.chars().take(8).collect::<String>().to_uppercase())
}

/// `/orders/:id`: confirmation and detail.
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_order,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                    Ok(order) => view! { <OrderView order/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderView(order: Order) -> impl IntoView {
    let title = format!("Order {}", short_id(&order.id));
    let pending = order.status == OrderStatus::PendingPayment;
    let a = order.shipping_address.clone();
    view! {
        <Title text=title.clone()/>
        <Meta name="robots" content="noindex"/>
        <section class="order">
            <h1>{title}</h1>
            <p>
                "Status: "
                <strong class=format!("status status-{}", order.status.as_str()) data-testid="order-status" data-status=order.status.as_str()>
                    {order.status.label()}
                </strong>
            </p>
            {pending.then(|| view! {
                <p class="notice" role="status">
                    "Thank you! Your order is reserved for 30 minutes while we wait for payment. "
                    "A confirmation goes to " {order.email.clone()} "."
                </p>
            })}
            <table class="cart-table">
                <thead><tr><th scope="col">"Item"</th><th scope="col">"Price"</th><th scope="col">"Quantity"</th><th scope="col">"Total"</th></tr></thead>
                <tbody>
                    {order.lines.iter().map(|l| view! {
                        <tr>
                            <td>{l.name.clone()}<span class="sku">{format!(" ({})", l.sku)}</span></td>
                            <td class="price">{l.unit_price.to_string()}</td>
                            <td>{l.quantity}</td>
                            <td class="price">{l.unit_price.checked_mul(l.quantity).map(|m| m.to_string()).unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <dl class="totals">
                <dt>"Subtotal"</dt><dd>{order.subtotal.to_string()}</dd>
                <dt>{format!("Shipping ({})", order.shipping_method.as_str())}</dt><dd>{order.shipping.to_string()}</dd>
                <dt>"Tax"</dt><dd>{order.tax.to_string()}</dd>
                <dt>"Total"</dt><dd><strong data-testid="order-total">{order.total.to_string()}</strong></dd>
            </dl>
            <h2>"Shipping to"</h2>
            <p>{a.one_line()}</p>
            {order.tracking_number.clone().map(|t| view! { <p>"Tracking number: " {t}</p> })}
        </section>
    }
}
