//! Account pages. Every form is an `ActionForm`: a plain POST without JavaScript, an
//! in-place submit with errors shown instantly after hydration.

use super::api::{
    get_account, AddAddress, ChangePassword, DeleteAddress, Login, Logout, RequestPasswordReset,
    ResetPassword, Signup, UpdateProfile,
};
use crate::layout::ErrorView;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{components::Redirect, hooks::use_query_map};
use types::{Address, AppError, Password};

/// The error of an action's last run, if it failed.
pub fn last_error<T, V>(value: V) -> Signal<Option<AppError>>
where
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// A summary of what went wrong, announced to screen readers.
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = if e.fields().is_some_and(|f| !f.is_empty()) {
                "Please fix the fields marked below.".to_owned()
            } else {
                e.to_string()
            };
            view! {
                <p class="form-alert" role="alert">
                    {text}
                </p>
            }
        })
    }
}

/// The messages for one field.
#[component]
pub fn FieldMessage(error: Signal<Option<AppError>>, #[prop(into)] field: String) -> impl IntoView {
    let id = format!("{field}-error");
    move || {
        let messages = error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get(&field).cloned()))
            .unwrap_or_default();
        (!messages.is_empty()).then(|| {
            view! {
                <p class="field-error" id=id.clone()>
                    {messages.join(" ")}
                </p>
            }
        })
    }
}

/// `/signup`
#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<Signup>::new();
    let error = last_error(action.value());
    // The same rule as the server, run in the browser as the shopper types.
    let password_hint = RwSignal::new(String::new());
    let on_password = move |ev| {
        let value = event_target_value(&ev);
        password_hint.set(
            Password::parse(&value)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        );
    };
    view! {
        <Title text="Create an account" />
        <Meta
            name="description"
            content="Create a Bazaar account to check out faster and track your orders."
        />
        <section class="auth-card">
            <h1>"Create an account"</h1>
            <FormAlert error />
            <ActionForm action>
                <label for="signup-name">"Name"</label>
                <input id="signup-name" name="name" autocomplete="name" required maxlength="100" />
                <FieldMessage error field="name" />
                <label for="signup-email">"Email"</label>
                <input
                    id="signup-email"
                    type="email"
                    name="email"
                    autocomplete="email"
                    required
                    maxlength="254"
                />
                <FieldMessage error field="email" />
                <label for="signup-password">"Password"</label>
                <input
                    id="signup-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    required
                    minlength="10"
                    maxlength="256"
                    aria-describedby="password-hint"
                    on:input=on_password
                />
                <p class="hint" id="password-hint">
                    {move || {
                        let hint = password_hint.get();
                        if hint.is_empty() { "At least 10 characters.".to_owned() } else { hint }
                    }}
                </p>
                <FieldMessage error field="password" />
                <button type="submit">"Create account"</button>
            </ActionForm>
            <p>"Already have an account? "<a href="/login">"Sign in"</a></p>
        </section>
    }
}

/// `/login?next=/path`
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let error = last_error(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let reset = move || query.read().get("reset").is_some();
    view! {
        <Title text="Sign in" />
        <Meta name="description" content="Sign in to your Bazaar account." />
        <section class="auth-card">
            <h1>"Sign in"</h1>
            {move || {
                reset()
                    .then(|| {
                        view! {
                            <p class="notice" role="status">
                                "Your password was changed. Sign in with the new one."
                            </p>
                        }
                    })
            }}
            <FormAlert error />
            <ActionForm action>
                <input type="hidden" name="next" value=next />
                <label for="login-email">"Email"</label>
                <input
                    id="login-email"
                    type="email"
                    name="email"
                    autocomplete="username"
                    required
                    maxlength="254"
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit">"Sign in"</button>
            </ActionForm>
            <p>
                <a href="/forgot-password">"Forgot your password?"</a>
            </p>
            <p>"New here? "<a href="/signup">"Create an account"</a></p>
        </section>
    }
}

/// A sign-out button (a POST form).
#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    view! {
        <ActionForm action attr:class="logout-form">
            <button type="submit" class="link-button">
                "Sign out"
            </button>
        </ActionForm>
    }
}

/// `/account`: profile, saved addresses, sign out.
#[component]
pub fn AccountPage() -> impl IntoView {
    let profile = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let changed = move || use_query_map().read().get("password").as_deref() == Some("changed");
    let add = ServerAction::<AddAddress>::new();
    let delete = ServerAction::<DeleteAddress>::new();
    let data = Resource::new(
        move || {
            (
                profile.version().get(),
                add.version().get(),
                delete.version().get(),
            )
        },
        |_| get_account(),
    );
    let profile_error = last_error(profile.value());
    let password_error = last_error(password.value());
    let add_error = last_error(add.value());
    let delete_error = last_error(delete.value());
    view! {
        <Title text="Your account" />
        <Meta name="robots" content="noindex" />
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(AppError::Unauthorized(_)) => {
                        // Guests go to the login page: a 302 without JavaScript, a navigation with it.
                        view! { <Redirect path="/login?next=/account" /> }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(account) => {
                        view! {
                            <section class="account">
                                <header class="account-header">
                                    <h1>"Hello, " {account.user.name.clone()}</h1>
                                    <LogoutButton />
                                </header>
                                <section aria-labelledby="profile-heading" class="panel">
                                    <h2 id="profile-heading">"Profile"</h2>
                                    <p>
                                        "Email: "
                                        <span data-testid="account-email">
                                            {account.user.email.clone()}
                                        </span>
                                    </p>
                                    <FormAlert error=profile_error />
                                    <ActionForm action=profile>
                                        <label for="profile-name">"Name"</label>
                                        <input
                                            id="profile-name"
                                            name="name"
                                            value=account.user.name.clone()
                                            required
                                            maxlength="100"
                                        />
                                        <FieldMessage error=profile_error field="name" />
                                        <button type="submit">"Save"</button>
                                    </ActionForm>
                                </section>
                                <section aria-labelledby="password-heading" class="panel">
                                    <h2 id="password-heading">"Password"</h2>
                                    <Show when=changed>
                                        <p class="notice" role="status">
                                            "Your password is changed. Every other device was signed out."
                                        </p>
                                    </Show>
                                    <FormAlert error=password_error />
                                    <ActionForm action=password>
                                        <label for="current-password">"Current password"</label>
                                        <input
                                            id="current-password"
                                            name="current_password"
                                            type="password"
                                            autocomplete="current-password"
                                            required
                                        />
                                        <FieldMessage
                                            error=password_error
                                            field="current_password"
                                        />
                                        <label for="new-password">"New password"</label>
                                        <input
                                            id="new-password"
                                            name="new_password"
                                            type="password"
                                            autocomplete="new-password"
                                            required
                                            minlength=Password::MIN_CHARS.to_string()
                                            maxlength=Password::MAX_CHARS.to_string()
                                        />
                                        <FieldMessage error=password_error field="new_password" />
                                        <button type="submit">"Change password"</button>
                                    </ActionForm>
                                </section>
                                <section aria-labelledby="addresses-heading" class="panel">
                                    <h2 id="addresses-heading">"Saved addresses"</h2>
                                    <FormAlert error=delete_error />
                                    {if account.addresses.is_empty() {
                                        view! { <p class="empty">"No saved addresses yet."</p> }
                                            .into_any()
                                    } else {
                                        view! {
                                            <ul class="address-list">
                                                {account
                                                    .addresses
                                                    .into_iter()
                                                    .map(|a| {
                                                        view! {
                                                            <li>
                                                                <span>{a.one_line()}</span>
                                                                <ActionForm action=delete attr:class="inline-form">
                                                                    <input
                                                                        type="hidden"
                                                                        name="id"
                                                                        value=a.id.clone().unwrap_or_default()
                                                                    />
                                                                    <button type="submit" class="link-button">
                                                                        "Remove"
                                                                    </button>
                                                                </ActionForm>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                    <h3>"Add an address"</h3>
                                    <FormAlert error=add_error />
                                    <ActionForm action=add attr:class="address-form">
                                        <AddressFields error=add_error prefix="address" />
                                        <button type="submit">"Save address"</button>
                                    </ActionForm>
                                </section>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Inputs for an `Address` named `{prefix}[field]`, as server functions expect, with each
/// field's errors read from `{error_prefix}field`. `value` fills them in.
#[component]
pub fn AddressFields(
    error: Signal<Option<AppError>>,
    #[prop(into)] prefix: String,
    #[prop(into, optional)] error_prefix: String,
    #[prop(optional)] value: Address,
) -> impl IntoView {
    let fields: [(&str, &str, &str, bool, String); 6] = [
        ("name", "Full name", "name", true, value.name),
        ("line1", "Address", "address-line1", true, value.line1),
        (
            "line2",
            "Apartment, suite (optional)",
            "address-line2",
            false,
            value.line2.unwrap_or_default(),
        ),
        ("city", "City", "address-level2", true, value.city),
        (
            "postal_code",
            "Postal code",
            "postal-code",
            true,
            value.postal_code,
        ),
        (
            "country",
            "Country code (e.g. US)",
            "country",
            true,
            value.country,
        ),
    ];
    fields
        .into_iter()
        .map(|(name, label, autocomplete, required, value)| {
            let id = format!("{prefix}-{name}");
            view! {
                <label for=id.clone()>{label}</label>
                <input
                    id=id
                    name=format!("{prefix}[{name}]")
                    autocomplete=autocomplete
                    required=required
                    maxlength="200"
                    value=value
                />
                <FieldMessage error field=format!("{error_prefix}{name}") />
            }
        })
        .collect_view()
}

/// `/forgot-password`
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = last_error(action.value());
    let query = use_query_map();
    let sent =
        move || query.read().get("sent").is_some() || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Reset your password" />
        <section class="auth-card">
            <h1>"Reset your password"</h1>
            {move || {
                sent()
                    .then(|| {
                        view! {
                            <p class="notice" role="status">
                                "If an account exists for that email, a reset link is on its way. It works once, for one hour."
                            </p>
                        }
                    })
            }}
            <FormAlert error />
            <ActionForm action>
                <label for="forgot-email">"Email"</label>
                <input
                    id="forgot-email"
                    type="email"
                    name="email"
                    autocomplete="email"
                    required
                    maxlength="254"
                />
                <FieldMessage error field="email" />
                <button type="submit">"Email me a link"</button>
            </ActionForm>
        </section>
    }
}

/// `/reset-password?token=…`
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = last_error(action.value());
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Choose a new password" />
        <Meta name="robots" content="noindex" />
        <section class="auth-card">
            <h1>"Choose a new password"</h1>
            <FormAlert error />
            <ActionForm action>
                <input type="hidden" name="token" value=token />
                <label for="reset-password">"New password"</label>
                <input
                    id="reset-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    required
                    minlength="10"
                />
                <FieldMessage error field="password" />
                <button type="submit">"Set password"</button>
            </ActionForm>
        </section>
    }
}
