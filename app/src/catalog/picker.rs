//! The product page's variant chooser: one radio group per option (Size, Color), or one
//! group of variants for a product without options. Without JavaScript it is a GET form
//! whose answer is the same page with that choice made.

use leptos::prelude::*;
use types::options::{OptionValues, ProductOption};
use types::Variant;

/// The option values to start from: those of the variant `?variant=SKU` names, else the
/// `?option.<name>=` values (completed from the first variant that has them, in stock
/// first), else the first variant in stock.
pub fn initial_choice(
    variants: &[Variant],
    wanted_sku: Option<&str>,
    wanted: &OptionValues,
) -> OptionValues {
    let fits = |v: &&Variant| {
        wanted
            .iter()
            .all(|(k, want)| v.options.get(k) == Some(want))
    };
    wanted_sku
        .and_then(|w| variants.iter().find(|v| v.sku.eq_ignore_ascii_case(w)))
        .or_else(|| variants.iter().filter(fits).find(|v| v.available > 0))
        .or_else(|| variants.iter().find(fits))
        .or_else(|| variants.iter().find(|v| v.available > 0))
        .or_else(|| variants.first())
        .map(|v| v.options.clone())
        .unwrap_or_default()
}

/// What a value's label adds: nothing when it can be bought with the other choices,
/// "sold out" when that variant has no stock, "unavailable" when there is no such variant.
fn value_note(
    variants: &[Variant],
    chosen: &OptionValues,
    name: &str,
    value: &str,
) -> &'static str {
    let others = |v: &&Variant| {
        v.options.get(name).map(String::as_str) == Some(value)
            && chosen
                .iter()
                .all(|(k, want)| k == name || v.options.get(k) == Some(want))
    };
    match variants.iter().filter(others).map(|v| v.available).max() {
        None => " (unavailable)",
        Some(0) => " (sold out)",
        Some(_) => "",
    }
}

/// One radio group per option. `chosen` holds the values picked; each label says when its
/// value cannot be had with the other picks.
#[component]
pub fn OptionPicker(
    options: Vec<ProductOption>,
    variants: StoredValue<Vec<Variant>>,
    chosen: RwSignal<OptionValues>,
    hydrated: ReadSignal<bool>,
) -> impl IntoView {
    view! {
        <form method="get" class="variant-form option-form">
            {options
                .into_iter()
                .enumerate()
                .map(|(i, option)| {
                    let name = option.name.clone();
                    view! {
                        <fieldset class="option-group">
                            <legend>{option.name.clone()}</legend>
                            {option
                                .values
                                .into_iter()
                                .enumerate()
                                .map(|(j, value)| {
                                    let id = format!("option-{i}-{j}");
                                    let (n1, v1) = (name.clone(), value.clone());
                                    let (n2, v2) = (name.clone(), value.clone());
                                    let checked = chosen
                                        .with_untracked(|c| c.get(&name) == Some(&value));
                                    view! {
                                        <div class="variant">
                                            <input
                                                type="radio"
                                                name=format!("option.{name}")
                                                id=id.clone()
                                                value=value.clone()
                                                checked=checked
                                                on:change=move |_| {
                                                    chosen
                                                        .update(|c| {
                                                            c.insert(n1.clone(), v1.clone());
                                                        })
                                                }
                                            />
                                            <label for=id>
                                                {value.clone()}
                                                <span class="option-note">
                                                    {move || {
                                                        chosen
                                                            .with(|c| {
                                                                variants.with_value(|vs| value_note(vs, c, &n2, &v2))
                                                            })
                                                    }}
                                                </span>
                                            </label>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                    }
                })
                .collect_view()}
            <button type="submit" hidden=move || hydrated.get()>
                "Show this option"
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::{Currency, Money};

    fn variant(sku: &str, size: &str, color: &str, available: i64) -> Variant {
        Variant {
            sku: sku.into(),
            name: format!("{size} {color}"),
            price: Money::new(1000, Currency::USD),
            available,
            options: [("Size", size), ("Color", color)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    fn pick(pairs: &[(&str, &str)]) -> OptionValues {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn labels_say_sold_out_or_unavailable_for_the_other_choices() {
        let vs = [variant("A", "S", "Red", 3), variant("B", "M", "Red", 0)];
        let red = pick(&[("Size", "S"), ("Color", "Red")]);
        assert_eq!(value_note(&vs, &red, "Size", "S"), "");
        assert_eq!(value_note(&vs, &red, "Size", "M"), " (sold out)");
        assert_eq!(value_note(&vs, &red, "Color", "Blue"), " (unavailable)");
    }

    #[test]
    fn the_first_choice_completes_what_the_url_asked_for_from_stock() {
        let vs = [
            variant("A", "S", "Red", 0),
            variant("B", "M", "Red", 2),
            variant("C", "S", "Blue", 1),
        ];
        assert_eq!(
            initial_choice(&vs, None, &pick(&[("Size", "S")]))["Color"],
            "Blue"
        );
        assert_eq!(
            initial_choice(&vs, Some("a"), &OptionValues::new())["Size"],
            "S"
        );
        assert_eq!(initial_choice(&vs, None, &OptionValues::new())["Size"], "M");
    }
}
