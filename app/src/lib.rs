//! The Bazaar storefront: one Leptos app rendered on the server and hydrated in the browser.
//!
//! Each feature module (catalog, cart, checkout, orders, accounts, admin) owns its pages,
//! components and server functions. A server function authorizes through the shared
//! request glue (`web`), calls one `domain` use-case and maps the error; the rules and the
//! SQL live in `domain`.

pub mod accounts;
pub mod admin;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod layout;
pub mod orders;
#[cfg(feature = "ssr")]
pub mod ssr;

use layout::{Footer, Header, NotFound};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app; the server renders it for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::set_page_csp(options.reload_port, options.env == leptos::config::Env::DEV);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: head tags, layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Set once the browser has hydrated; SSR-only visitors never see it change.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    provide_context(Hydrated(hydrated.read_only()));
    provide_context(cart::CartVersion(RwSignal::new(0)));

    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Title formatter=|title: String| {
            let title = if title.is_empty() {
                "Bazaar".to_owned()
            } else {
                format!("{title} · Bazaar")
            };
            raw_text(title)
        } />
        <Router>
            <div class="site" data-hydrated=move || hydrated.get().to_string()>
                <Header />
                <main id="main">
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=catalog::HomePage ssr=SsrMode::Async />
                        <Route
                            path=path!("/categories/:slug")
                            view=catalog::CategoryPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/products/:slug")
                            view=catalog::ProductPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/collections/:slug")
                            view=catalog::CollectionPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/search") view=catalog::SearchPage ssr=SsrMode::Async />
                        <Route path=path!("/cart") view=cart::CartPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/checkout")
                            view=checkout::CheckoutPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/orders") view=orders::OrdersPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/orders/:id")
                            view=orders::OrderPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/checkout/success/:id")
                            view=orders::CheckoutSuccessPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/checkout/cancelled/:id")
                            view=orders::CheckoutCancelledPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/signup") view=accounts::SignupPage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=accounts::LoginPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/account")
                            view=accounts::AccountPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/forgot-password")
                            view=accounts::ForgotPasswordPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/reset-password")
                            view=accounts::ResetPasswordPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin")
                            view=admin::AdminDashboardPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/products")
                            view=admin::AdminProductsPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/products/new")
                            view=admin::AdminNewProductPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/products/:slug")
                            view=admin::AdminProductPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/categories")
                            view=admin::AdminCategoriesPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/categories/:slug")
                            view=admin::AdminCategoryPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/collections")
                            view=admin::AdminCollectionsPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/collections/:slug")
                            view=admin::AdminCollectionPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/promotions")
                            view=admin::AdminPromotionsPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/promotions/:code")
                            view=admin::AdminPromotionPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/orders")
                            view=admin::AdminOrdersPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/orders/:id")
                            view=admin::AdminOrderPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/customers")
                            view=admin::AdminCustomersPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/audit")
                            view=admin::AdminAuditPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/admin/flags")
                            view=admin::AdminFlagsPage
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </main>
                <Footer />
            </div>
        </Router>
    }
}

/// Whether the page has hydrated, for progressive enhancement (e.g. hiding no-JS buttons).
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

/// Reads the hydration flag; `false` during server rendering.
pub fn use_hydrated() -> ReadSignal<bool> {
    use_context::<Hydrated>()
        .map(|h| h.0)
        .unwrap_or_else(|| RwSignal::new(false).read_only())
}

/// Sets the HTTP status of the page being rendered. Does nothing in the browser.
pub fn set_http_status(code: u16) {
    #[cfg(feature = "ssr")]
    ssr::set_status(code);
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// Text for an element whose children the renderer writes unescaped on the server:
/// leptos_meta 0.8 writes the `<title>` as given, and tachys does the same for a
/// `<textarea>`, so a product named `</title><script>…` would leave its element. The
/// browser sets both as plain text after hydration, so only the server escapes.
pub(crate) fn raw_text(text: String) -> String {
    if cfg!(feature = "ssr") {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    } else {
        text
    }
}
