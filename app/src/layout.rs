//! The page frame (header, footer) and the shared error views.

use crate::cart::{cart_version, CartBadge};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};
use types::{AppError, Cart, User};

/// What the header shows: who is signed in and what is in the cart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeaderInfo {
    /// The signed-in user, if any.
    pub user: Option<User>,
    /// The shopper's cart (empty for a new visitor).
    pub cart: Cart,
}

/// The header's state from one read of the caller: the session and user are resolved once
/// for both halves. A broken session or cart store must not break every page, so either
/// outage reads as signed out with an empty cart here (the pages themselves say 503).
#[server(prefix = "/rpc", endpoint = "header")]
pub async fn header_state() -> Result<HeaderInfo, AppError> {
    let user = crate::ssr::auth::viewer().await.unwrap_or(None);
    let cart = crate::cart::cart_of(user.as_ref())
        .await
        .unwrap_or_else(|_| Cart::empty());
    Ok(HeaderInfo { user, cart })
}

/// The site header: brand, search, the account link and the mini-cart.
#[component]
pub fn Header() -> impl IntoView {
    // Re-read on every navigation and cart change, so signing in or out and adding to the
    // cart show at once.
    let location = use_location();
    let state = Resource::new(
        move || (location.pathname.get(), cart_version()),
        |_| header_state(),
    );
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="site-header">
            <a class="brand" href="/" aria-label="Bazaar home">
                "Bazaar"
            </a>
            <form class="site-search" action="/search" method="get" role="search">
                <label for="site-search-q" class="visually-hidden">
                    "Search products"
                </label>
                <input
                    id="site-search-q"
                    type="search"
                    name="q"
                    placeholder="Search products"
                    maxlength="200"
                />
                <button type="submit">"Search"</button>
            </form>
            <Transition fallback=|| {
                view! { <AccountAndCart state=HeaderInfo::default() /> }
            }>
                {move || Suspend::new(async move {
                    let state = state.await.unwrap_or_default();
                    view! { <AccountAndCart state /> }
                })}
            </Transition>
        </header>
    }
}

/// The account link and the mini-cart, drawn from one [`HeaderInfo`].
#[component]
fn AccountAndCart(state: HeaderInfo) -> impl IntoView {
    let account = match state.user {
        Some(user) => view! {
            <a href="/account" data-testid="account-link">
                {user.name}
            </a>
        }
        .into_any(),
        None => view! { <a href="/login">"Sign in"</a> }.into_any(),
    };
    view! {
        <nav class="account-nav" aria-label="Account">
            {account}
        </nav>
        <CartBadge cart=state.cart />
    }
}

/// The site footer.
#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>"Bazaar · everyday goods, fairly priced"</p>
        </footer>
    }
}

/// The 404 page; sets the HTTP status to 404 when rendered on the server.
#[component]
pub fn NotFound(#[prop(optional, into)] what: Option<String>) -> impl IntoView {
    crate::set_http_status(404);
    let message = what.unwrap_or_else(|| "page".to_owned());
    view! {
        <Title text="Not found" />
        <Meta name="robots" content="noindex" />
        <section class="error-page">
            <h1>"We couldn't find that " {message}</h1>
            <p>
                "It may have moved or sold out for good. Try a search, or start from the home page."
            </p>
            <p>
                <a class="button" href="/">
                    "Back to the shop"
                </a>
            </p>
        </section>
    }
}

/// Shows an error from a server function, with the right HTTP status.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    if let AppError::NotFound(msg) = &error {
        let what = msg.trim_end_matches(" not found").to_owned();
        return view! { <NotFound what /> }.into_any();
    }
    crate::set_http_status(error.status());
    let retry = matches!(error, AppError::Unavailable(_) | AppError::Internal(_));
    view! {
        <Title text="Something went wrong" />
        <section class="error-page" role="alert">
            <h1>{if retry { "Please try again" } else { "We couldn't do that" }}</h1>
            <p>{error.to_string()}</p>
            <p>
                <a class="button" href="/">
                    "Back to the shop"
                </a>
            </p>
        </section>
    }
    .into_any()
}
