//! The product form's options and attributes: two text areas, one `Name: value, value`
//! line per option and one `name: value` line per attribute, checked as they are typed by
//! the same parsers the server runs.

use leptos::prelude::*;
use types::accounts::FormErrors;
use types::options::{
    options_from_lines, options_to_lines, pairs_from_lines, pairs_to_lines, parse_attributes,
    parse_options, Attributes, ProductOption,
};
use types::AppError;

/// The first problem in an options text, as the server would name it.
fn check_options(text: &str) -> Result<(), String> {
    let mut errors = FormErrors::default();
    let raw = options_from_lines(&mut errors, text);
    parse_options(&mut errors, &raw);
    first_problem(errors)
}

/// The first problem in an attributes text.
fn check_attributes(text: &str) -> Result<(), String> {
    let mut errors = FormErrors::default();
    let raw = pairs_from_lines(&mut errors, "attributes", text);
    parse_attributes(&mut errors, &raw);
    first_problem(errors)
}

fn first_problem(errors: FormErrors) -> Result<(), String> {
    errors.finish().map_err(|e| {
        e.fields()
            .and_then(|f| {
                f.iter()
                    .next()
                    .map(|(k, m)| format!("{k}: {}", m.join(" ")))
            })
            .unwrap_or_else(|| e.to_string())
    })
}

/// Every field error whose name starts with `prefix` (`options`, `attributes`), each
/// with its name, since one text area carries many fields.
#[component]
pub fn PrefixMessages(
    error: Signal<Option<AppError>>,
    #[prop(into)] prefix: String,
) -> impl IntoView {
    move || {
        let lines: Vec<String> = error
            .get()
            .and_then(|e| e.fields().cloned())
            .map(|fields| {
                fields
                    .into_iter()
                    .filter(|(k, _)| k.starts_with(prefix.as_str()))
                    .map(|(k, m)| format!("{k}: {}", m.join(" ")))
                    .collect()
            })
            .unwrap_or_default();
        (!lines.is_empty()).then(|| {
            view! {
                <ul class="field-error" id=format!("{prefix}-error")>
                    {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                </ul>
            }
        })
    }
}

/// The options and attributes text areas of the product form.
#[component]
pub fn OptionFields(
    options: Vec<ProductOption>,
    attributes: Attributes,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let options_hint = RwSignal::new(String::new());
    let attributes_hint = RwSignal::new(String::new());
    let hint = |signal: RwSignal<String>, check: fn(&str) -> Result<(), String>| {
        move |ev: leptos::ev::Event| {
            signal.set(check(&event_target_value(&ev)).err().unwrap_or_default());
        }
    };
    view! {
        <label for="pf-options">"Options"</label>
        <textarea
            id="pf-options"
            name="form[options]"
            rows="3"
            placeholder="Size: S, M, L"
            aria-describedby="pf-options-help"
            on:input=hint(options_hint, check_options)
        >
            {crate::raw_text(options_to_lines(&options))}
        </textarea>
        <p class="field-help" id="pf-options-help">
            "One option per line, its values in the order shoppers see them. Each variant then names one value of every option, as in "
            <code>"Size: M"</code>
            "."
        </p>
        <p class="field-hint" aria-live="polite">
            {move || options_hint.get()}
        </p>
        <PrefixMessages error prefix="options" />
        <label for="pf-attributes">"Attributes"</label>
        <textarea
            id="pf-attributes"
            name="form[attributes]"
            rows="3"
            placeholder="material: Cotton"
            on:input=hint(attributes_hint, check_attributes)
        >
            {crate::raw_text(pairs_to_lines(&attributes, "\n"))}
        </textarea>
        <p class="field-hint" aria-live="polite">
            {move || attributes_hint.get()}
        </p>
        <PrefixMessages error prefix="attributes" />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_options_are_checked_by_the_servers_rules() {
        assert!(check_options("Size: S, M\nColor: Red").is_ok());
        let err = check_options("Size: S, S").expect_err("a value twice");
        assert!(err.starts_with("options[0].values[1]"), "{err}");
        assert!(check_attributes("material Cotton").is_err());
    }
}
