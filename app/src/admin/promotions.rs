//! `/admin/promotions`: the merchant's discount codes, their server functions and pages.
//! The forms post with or without JavaScript; amounts are typed as people write them
//! ("15" per cent, "5.00" dollars) and read into basis points and minor units here.

use super::pages::{denied, AdminFrame};
use crate::accounts::{last_error, FieldMessage, FormAlert};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use types::promotions::Promotion;
use types::AppError;

#[cfg(feature = "ssr")]
use crate::ssr::{auth, redirect_plain_form, respond, services};
#[cfg(feature = "ssr")]
use types::promotions::value_json;

/// Every discount code, newest first.
#[server(prefix = "/rpc", endpoint = "admin/promotions")]
pub async fn admin_promotion_list() -> Result<Vec<Promotion>, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.promotions.list().await
    }
    .await;
    respond(result)
}

/// One discount code; 404 when there is none.
#[server(prefix = "/rpc", endpoint = "admin/promotion")]
pub async fn admin_promotion_detail(code: String) -> Result<Promotion, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.promotions.get(&code).await
    }
    .await;
    respond(result)
}

/// The form's fields as typed, read into the contract's shapes.
#[cfg(any(feature = "ssr", test))]
mod form {
    use types::promotions::{AppliesTo, Benefit};
    use types::{AppError, Currency, Money};

    /// A blank field is "none".
    pub fn blank(raw: &str) -> Option<&str> {
        Some(raw.trim()).filter(|s| !s.is_empty())
    }

    /// The value field for `kind`: a percentage ("15", "12.5") as basis points, an amount
    /// ("5.00") as a Money, nothing for free shipping. The range is checked by the one rule
    /// in `types::promotions`.
    pub fn value(kind: &str, raw: &str) -> Result<Option<Benefit>, AppError> {
        let bad = |m: &str| AppError::invalid_field("value", m);
        match (kind, blank(raw)) {
            ("free_shipping", _) | (_, None) => Ok(None),
            // A percentage has at most two decimals, as cents do: 12.50 % is 1250 bps.
            ("percent", Some(p)) => Money::parse_major(p.trim_end_matches('%'), Currency::USD)
                .map(|m| Some(Benefit::Percent(m.amount)))
                .map_err(|_| bad("enter a percentage such as 15 or 12.5")),
            (_, Some(a)) => Money::parse_major(a, Currency::USD)
                .map(|m| Some(Benefit::Fixed(m)))
                .map_err(|_| bad("enter an amount such as 5.00")),
        }
    }

    /// An optional amount ("20.00"), for the minimum.
    pub fn money(field: &str, raw: &str) -> Result<Option<Money>, AppError> {
        blank(raw)
            .map(|a| {
                Money::parse_major(a, Currency::USD)
                    .map_err(|e| AppError::invalid_field(field, e.to_string()))
            })
            .transpose()
    }

    /// An optional whole number, for the limits.
    pub fn count(field: &str, raw: &str) -> Result<Option<i64>, AppError> {
        blank(raw)
            .map(|n| {
                n.parse()
                    .map_err(|_| AppError::invalid_field(field, "enter a whole number"))
            })
            .transpose()
    }

    /// A `datetime-local` field ("2027-01-31T23:59"), read as UTC, or a full RFC 3339 time.
    pub fn time(raw: &str) -> Option<String> {
        blank(raw).map(|t| match t.len() {
            16 => format!("{t}:00Z"),
            19 => format!("{t}Z"),
            _ => t.to_owned(),
        })
    }

    /// Covered categories and SKUs, each a comma- or line-separated list.
    pub fn scope(categories: &str, skus: &str) -> AppliesTo {
        let list = |raw: &str| {
            raw.split([',', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        AppliesTo {
            categories: list(categories),
            skus: list(skus),
        }
    }
}

/// The discount code form as posted: every field as typed (`fields[code]`, …).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PromotionFields {
    /// Empty for a new code; the code being edited otherwise.
    #[serde(default)]
    pub original_code: String,
    /// The code (new codes only).
    #[serde(default)]
    pub code: String,
    /// `percent`, `fixed` or `free_shipping`.
    #[serde(default)]
    pub kind: String,
    /// "15" per cent or "5.00" dollars.
    #[serde(default)]
    pub value: String,
    /// "20.00", or empty for none.
    #[serde(default)]
    pub min_subtotal: String,
    /// A `datetime-local` value, or empty.
    #[serde(default)]
    pub starts_at: String,
    /// A `datetime-local` value, or empty.
    #[serde(default)]
    pub ends_at: String,
    /// A whole number, or empty.
    #[serde(default)]
    pub usage_limit: String,
    /// A whole number, or empty.
    #[serde(default)]
    pub per_customer_limit: String,
    /// Category slugs, comma-separated.
    #[serde(default)]
    pub categories: String,
    /// SKUs, comma-separated.
    #[serde(default)]
    pub skus: String,
}

/// Creates a code (`original_code` empty) or edits one; answers the saved one.
#[server(prefix = "/rpc", endpoint = "admin/promotions/save")]
pub async fn save_promotion(fields: PromotionFields) -> Result<Promotion, AppError> {
    let PromotionFields {
        original_code,
        code,
        kind,
        value,
        min_subtotal,
        starts_at,
        ends_at,
        usage_limit,
        per_customer_limit,
        categories,
        skus,
    } = fields;
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let promotions = &services()?.promotions;
        let saved = if original_code.is_empty() {
            let input = types::promotions::PromotionInput {
                value: form::value(&kind, &value)?.map(|b| value_json(&b)),
                code,
                kind,
                min_subtotal: form::money("min_subtotal", &min_subtotal)?,
                starts_at: form::time(&starts_at),
                ends_at: form::time(&ends_at),
                usage_limit: form::count("usage_limit", &usage_limit)?,
                per_customer_limit: form::count("per_customer_limit", &per_customer_limit)?,
                applies_to: Some(form::scope(&categories, &skus)),
            };
            promotions.create(&actor, &input.parse()?).await?
        } else {
            let patch = types::promotions::PromotionPatch {
                value: form::value(&kind, &value)?.map(|b| value_json(&b)),
                kind: Some(kind),
                min_subtotal: Some(form::money("min_subtotal", &min_subtotal)?),
                starts_at: Some(form::time(&starts_at)),
                ends_at: Some(form::time(&ends_at)),
                usage_limit: Some(form::count("usage_limit", &usage_limit)?),
                per_customer_limit: Some(form::count("per_customer_limit", &per_customer_limit)?),
                applies_to: Some(form::scope(&categories, &skus)),
                active: None,
            };
            promotions.update(&actor, &original_code, &patch).await?
        };
        redirect_plain_form(&format!("/admin/promotions/{}?saved=1", saved.code));
        Ok(saved)
    }
    .await;
    respond(result)
}

/// Switches a code off or back on.
#[server(prefix = "/rpc", endpoint = "admin/promotions/active")]
pub async fn set_promotion_active(code: String, active: bool) -> Result<Promotion, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let promotions = &services()?.promotions;
        let saved = if active {
            let patch = types::promotions::PromotionPatch {
                active: Some(true),
                ..Default::default()
            };
            promotions.update(&actor, &code, &patch).await?
        } else {
            promotions.deactivate(&actor, &code).await?;
            promotions.get(&code).await?
        };
        redirect_plain_form(&format!("/admin/promotions/{}?saved=1", saved.code));
        Ok(saved)
    }
    .await;
    respond(result)
}

/// A stored RFC 3339 time as a `datetime-local` field shows it (UTC, to the minute).
fn datetime_local(rfc3339: Option<&String>) -> String {
    rfc3339
        .map(|t| t.chars().take(16).collect())
        .unwrap_or_default()
}

/// "12 of 100" or "12" uses.
fn uses(p: &Promotion) -> String {
    match p.usage_limit {
        Some(limit) => format!("{} of {limit}", p.redeemed),
        None => p.redeemed.to_string(),
    }
}

/// `/admin/promotions`: every code with its rule, its uses and whether it is on.
#[component]
pub fn AdminPromotionsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| admin_promotion_list());
    view! {
        <AdminFrame title="Discount codes">
            <p>
                <a class="button" href="/admin/promotions/new">
                    "New discount code"
                </a>
            </p>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/promotions"),
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No discount codes yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <table class="admin-table promotions-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Code"</th>
                                            <th scope="col">"Takes off"</th>
                                            <th scope="col">"Uses"</th>
                                            <th scope="col">"Ends"</th>
                                            <th scope="col">"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|p| {
                                                view! {
                                                    <tr data-code=p.code.clone()>
                                                        <td>
                                                            <a href=format!(
                                                                "/admin/promotions/{}",
                                                                p.code,
                                                            )>{p.code.clone()}</a>
                                                        </td>
                                                        <td>{p.label.clone()}</td>
                                                        <td data-testid="uses">{uses(&p)}</td>
                                                        <td>
                                                            {p.ends_at.clone().unwrap_or_else(|| "Never".to_owned())}
                                                        </td>
                                                        <td>{if p.active { "Active" } else { "Off" }}</td>
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

/// `/admin/promotions/:code` (or `new`): the code's form, and switching it off or on.
#[component]
pub fn AdminPromotionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let data = Resource::new(code, |code| async move {
        if code == "new" {
            // Nothing to load, but the page is the admin's only: the list call checks that.
            admin_promotion_list().await.map(|_| None)
        } else {
            admin_promotion_detail(code).await.map(Some)
        }
    });
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let here = format!(
                    "/admin/promotions/{}",
                    params.read_untracked().get("code").unwrap_or_default(),
                );
                match data.await {
                    Err(e) => denied(e, &here),
                    Ok(promotion) => {
                        let saved = query.read_untracked().get("saved").is_some();
                        let title = promotion
                            .as_ref()
                            .map_or_else(|| "New discount code".to_owned(), |p| p.code.clone());
                        view! {
                            <AdminFrame title>
                                {saved
                                    .then(|| {
                                        view! {
                                            <p class="notice" role="status">
                                                "Saved."
                                            </p>
                                        }
                                    })}
                                {promotion
                                    .clone()
                                    .map(|p| {
                                        view! {
                                            <p data-testid="promotion-uses">
                                                {format!(
                                                    "Used on {} orders · {}",
                                                    uses(&p),
                                                    if p.active { "active" } else { "switched off" },
                                                )}
                                            </p>
                                        }
                                    })} <PromotionForm promotion=promotion.clone() />
                                {promotion.map(|p| view! { <ActiveForm promotion=p /> })}
                            </AdminFrame>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The value as the form shows it: "15" per cent, "5.00" dollars.
fn value_text(p: &Promotion) -> String {
    use types::promotions::Benefit;
    match p.benefit() {
        Some(Benefit::Percent(bps)) => types::Money::new(bps, types::Currency::USD)
            .to_plain()
            .trim_end_matches(".00")
            .to_owned(),
        Some(Benefit::Fixed(m)) => m.to_plain(),
        _ => String::new(),
    }
}

#[component]
fn PromotionForm(promotion: Option<Promotion>) -> impl IntoView {
    let save = ServerAction::<SavePromotion>::new();
    let error = last_error(save.value());
    // After hydration the form stays in place: go to the saved code's own address.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            navigate(
                &format!("/admin/promotions/{}?saved=1", saved.code),
                Default::default(),
            );
        }
    });
    let original = promotion
        .as_ref()
        .map(|p| p.code.clone())
        .unwrap_or_default();
    let editing = promotion.is_some();
    let value = promotion.as_ref().map(value_text).unwrap_or_default();
    let kind = promotion
        .as_ref()
        .map_or_else(|| "percent".to_owned(), |p| p.kind.clone());
    let p = promotion.as_ref();
    let min = p
        .and_then(|p| p.min_subtotal)
        .map(|m| m.to_plain())
        .unwrap_or_default();
    let starts = datetime_local(p.and_then(|p| p.starts_at.as_ref()));
    let ends = datetime_local(p.and_then(|p| p.ends_at.as_ref()));
    let limit = p
        .and_then(|p| p.usage_limit)
        .map(|n| n.to_string())
        .unwrap_or_default();
    let per_customer = p
        .and_then(|p| p.per_customer_limit)
        .map(|n| n.to_string())
        .unwrap_or_default();
    let categories = p
        .map(|p| p.applies_to.categories.join(", "))
        .unwrap_or_default();
    let skus = p.map(|p| p.applies_to.skus.join(", ")).unwrap_or_default();
    let option = move |v: &'static str, label: &'static str| {
        let selected = kind == v;
        view! {
            <option value=v selected=selected>
                {label}
            </option>
        }
    };
    view! {
        <FormAlert error />
        <ActionForm action=save attr:class="promotion-form">
            <input type="hidden" name="fields[original_code]" value=original.clone() />
            <label for="promotion-code">"Code"</label>
            <input
                id="promotion-code"
                name="fields[code]"
                required=!editing
                readonly=editing
                maxlength="32"
                value=original
                aria-describedby="promotion-code-hint"
            />
            <p class="hint" id="promotion-code-hint">
                "Letters, digits, - and _; shoppers may type it in any case."
            </p>
            <FieldMessage error field="code" />
            <label for="promotion-kind">"Kind"</label>
            <select id="promotion-kind" name="fields[kind]">
                {option("percent", "Percent off")}
                {option("fixed", "Amount off")}
                {option("free_shipping", "Free shipping")}
            </select>
            <FieldMessage error field="kind" />
            <label for="promotion-value">"Value"</label>
            <input
                id="promotion-value"
                name="fields[value]"
                value=value
                inputmode="decimal"
                aria-describedby="promotion-value-hint"
            />
            <p class="hint" id="promotion-value-hint">
                "A percentage (15) or an amount in dollars (5.00); empty for free shipping."
            </p>
            <FieldMessage error field="value" />
            <label for="promotion-min">"Minimum subtotal"</label>
            <input id="promotion-min" name="fields[min_subtotal]" value=min inputmode="decimal" />
            <FieldMessage error field="min_subtotal" />
            <label for="promotion-starts">"Starts (UTC)"</label>
            <input
                id="promotion-starts"
                name="fields[starts_at]"
                type="datetime-local"
                value=starts
            />
            <FieldMessage error field="starts_at" />
            <label for="promotion-ends">"Ends (UTC)"</label>
            <input id="promotion-ends" name="fields[ends_at]" type="datetime-local" value=ends />
            <FieldMessage error field="ends_at" />
            <label for="promotion-limit">"Uses in all"</label>
            <input
                id="promotion-limit"
                name="fields[usage_limit]"
                type="number"
                min="1"
                value=limit
            />
            <FieldMessage error field="usage_limit" />
            <label for="promotion-per-customer">"Uses per customer"</label>
            <input
                id="promotion-per-customer"
                name="fields[per_customer_limit]"
                type="number"
                min="1"
                value=per_customer
            />
            <FieldMessage error field="per_customer_limit" />
            <label for="promotion-categories">"Only these categories"</label>
            <input
                id="promotion-categories"
                name="fields[categories]"
                value=categories
                aria-describedby="promotion-scope-hint"
            />
            <FieldMessage error field="applies_to.categories[0]" />
            <label for="promotion-skus">"Only these SKUs"</label>
            <input
                id="promotion-skus"
                name="fields[skus]"
                value=skus
                aria-describedby="promotion-scope-hint"
            />
            <p class="hint" id="promotion-scope-hint">
                "Category slugs and SKUs, separated by commas; both empty covers everything."
            </p>
            <FieldMessage error field="applies_to.skus[0]" />
            <button type="submit">"Save discount code"</button>
        </ActionForm>
    }
}

#[component]
fn ActiveForm(promotion: Promotion) -> impl IntoView {
    let toggle = ServerAction::<SetPromotionActive>::new();
    let error = last_error(toggle.value());
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = toggle.value().get() {
            navigate(
                &format!("/admin/promotions/{}?saved=1", saved.code),
                Default::default(),
            );
        }
    });
    let (label, next) = if promotion.active {
        ("Switch off", "false")
    } else {
        ("Switch back on", "true")
    };
    view! {
        <FormAlert error />
        <ActionForm action=toggle attr:class="delete-form">
            <input type="hidden" name="code" value=promotion.code />
            <input type="hidden" name="active" value=next />
            <button type="submit" class=if promotion.active { "danger" } else { "" }>
                {label}
            </button>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    use super::{datetime_local, form};
    use types::promotions::Benefit;
    use types::{Currency, Money};

    #[test]
    fn the_form_reads_amounts_as_people_type_them() {
        assert_eq!(
            form::value("percent", "15").expect("ok"),
            Some(Benefit::Percent(1500))
        );
        assert_eq!(
            form::value("percent", "12.5%").expect("ok"),
            Some(Benefit::Percent(1250))
        );
        assert_eq!(
            form::value("fixed", "$5").expect("ok"),
            Some(Benefit::Fixed(Money::new(500, Currency::USD)))
        );
        assert_eq!(form::value("free_shipping", "9").expect("ok"), None);
        assert!(form::value("percent", "lots").is_err());
        assert_eq!(
            form::time("2027-01-31T23:59").as_deref(),
            Some("2027-01-31T23:59:00Z")
        );
        assert_eq!(form::time(" "), None);
        assert_eq!(
            datetime_local(Some(&"2027-01-31T23:59:00Z".to_owned())),
            "2027-01-31T23:59"
        );
        let scope = form::scope("electronics,\n books", "");
        assert_eq!(scope.categories, ["electronics", "books"]);
        assert!(scope.skus.is_empty());
        assert_eq!(
            form::count("usage_limit", "x").map_err(|e| e.status()),
            Err(422)
        );
    }
}
