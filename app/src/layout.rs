//! The page frame (header, footer) and the shared error views.

use crate::accounts::current_user;
use crate::cart::CartBadge;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_location;
use types::AppError;

/// The site header: brand, search and the cart badge.
#[component]
pub fn Header() -> impl IntoView {
    // Re-read on every navigation, so signing in or out shows at once.
    let location = use_location();
    let user = Resource::new(move || location.pathname.get(), |_| current_user());
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
            <nav class="account-nav" aria-label="Account">
                <Transition fallback=|| {
                    view! { <a href="/login">"Sign in"</a> }
                }>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => {
                                view! {
                                    <a href="/account" data-testid="account-link">
                                        {user.name}
                                    </a>
                                }
                                    .into_any()
                            }
                            _ => view! { <a href="/login">"Sign in"</a> }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
            <CartBadge />
        </header>
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
