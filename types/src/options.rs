//! Product options (Size, Color), the option values each variant carries, and merchant
//! attributes (material, brand): their shapes and the one set of rules that keeps a
//! product's variants consistent with its options, on the server and in the admin forms.

use crate::accounts::FormErrors;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// A variant's option values by option name, e.g. `{"Size":"M","Color":"Red"}`.
pub type OptionValues = BTreeMap<String, String>;

/// A product's attributes by name, e.g. `{"material":"Cotton"}`.
pub type Attributes = BTreeMap<String, String>;

/// The longest option or attribute name or value, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// The most options a product may have.
pub const MAX_OPTIONS: usize = 5;
/// The most values one option may have.
pub const MAX_OPTION_VALUES: usize = 100;
/// The most attributes a product may have.
pub const MAX_ATTRIBUTES: usize = 30;

/// One option axis of a product with its values in display order: `{"name","values"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductOption {
    /// The option's name, e.g. `Size`.
    pub name: String,
    /// Its values in the order a shopper sees them, e.g. `["S","M","L"]`.
    pub values: Vec<String>,
}

/// Checks an option or attribute name or value: trimmed, 1 to 100 characters, no
/// control characters.
pub fn parse_label(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        Err("is required".to_owned())
    } else if t.chars().count() > MAX_LABEL_CHARS {
        Err(format!("must be at most {MAX_LABEL_CHARS} characters"))
    } else if t.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(t.to_owned())
    }
}

/// Checks a product's options: each name once (ignoring case), each with at least one
/// value and no value twice. Problems are named `options[i].name`, `options[i].values`
/// and `options[i].values[j]`.
pub fn parse_options(errors: &mut FormErrors, raw: &[ProductOption]) -> Vec<ProductOption> {
    if raw.len() > MAX_OPTIONS {
        errors.check::<(), _>(
            "options",
            Err(format!("at most {MAX_OPTIONS} options are allowed")),
        );
    }
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, option) in raw.iter().enumerate() {
        let name = errors.check(&format!("options[{i}].name"), parse_label(&option.name));
        if let Some(n) = &name {
            if !names.insert(n.to_lowercase()) {
                errors.check::<(), _>(&format!("options[{i}].name"), Err("is listed twice"));
            }
        }
        if option.values.is_empty() {
            errors.check::<(), _>(
                &format!("options[{i}].values"),
                Err("at least one value is required"),
            );
        } else if option.values.len() > MAX_OPTION_VALUES {
            errors.check::<(), _>(
                &format!("options[{i}].values"),
                Err(format!("at most {MAX_OPTION_VALUES} values are allowed")),
            );
        }
        let mut seen = HashSet::new();
        let mut values = Vec::new();
        for (j, v) in option.values.iter().enumerate() {
            let field = format!("options[{i}].values[{j}]");
            if let Some(v) = errors.check(&field, parse_label(v)) {
                if seen.insert(v.clone()) {
                    values.push(v);
                } else {
                    errors.check::<(), _>(&field, Err("is listed twice"));
                }
            }
        }
        if let Some(name) = name {
            out.push(ProductOption { name, values });
        }
    }
    out
}

/// Checks a product's attributes, naming each problem `attributes.<name>`.
pub fn parse_attributes(errors: &mut FormErrors, raw: &Attributes) -> Attributes {
    if raw.len() > MAX_ATTRIBUTES {
        errors.check::<(), _>(
            "attributes",
            Err(format!("at most {MAX_ATTRIBUTES} attributes are allowed")),
        );
    }
    let mut out = Attributes::new();
    for (name, value) in raw {
        let field = format!("attributes.{name}");
        let name = errors.check(&field, parse_label(name));
        let value = errors.check(&field, parse_label(value));
        if let (Some(name), Some(value)) = (name, value) {
            if out.insert(name, value).is_some() {
                errors.check::<(), _>(&field, Err("is listed twice"));
            }
        }
    }
    out
}

/// Checks that every variant names exactly the product's options, each with one of that
/// option's values, and that no two variants name the same values. `variants` holds each
/// variant's option values in order; problems are named `variants[i].options.<name>` and
/// `variants[i].options`.
pub fn check_variant_options(
    errors: &mut FormErrors,
    options: &[ProductOption],
    variants: &[OptionValues],
) {
    let mut seen: BTreeMap<&OptionValues, usize> = BTreeMap::new();
    for (i, chosen) in variants.iter().enumerate() {
        for option in options {
            let field = format!("variants[{i}].options.{}", option.name);
            match chosen.get(&option.name) {
                None => {
                    errors.check::<(), _>(&field, Err("is required"));
                }
                Some(value) if !option.values.contains(value) => {
                    errors.check::<(), _>(
                        &field,
                        Err(format!(
                            "`{value}` is not a value of {}; choose one of {}",
                            option.name,
                            option.values.join(", ")
                        )),
                    );
                }
                Some(_) => {}
            }
        }
        for name in chosen.keys() {
            if !options.iter().any(|o| &o.name == name) {
                errors.check::<(), _>(
                    &format!("variants[{i}].options.{name}"),
                    Err(format!("`{name}` is not an option of this product")),
                );
            }
        }
        if !options.is_empty() {
            if let Some(first) = seen.insert(chosen, i) {
                errors.check::<(), _>(
                    &format!("variants[{i}].options"),
                    Err(format!("are the same as variants[{first}]'s")),
                );
            }
        }
    }
}

/// Parses the admin form's one-option-per-line text, `Size: S, M, L`, into options.
/// A line without a colon is reported as `options[i].name`.
pub fn options_from_lines(errors: &mut FormErrors, text: &str) -> Vec<ProductOption> {
    let mut out = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        match line.split_once(':') {
            Some((name, values)) => out.push(ProductOption {
                name: name.trim().to_owned(),
                values: values
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }),
            None => {
                errors.check::<(), _>(
                    &format!("options[{i}].name"),
                    Err("write each option as `Name: value, value`"),
                );
            }
        }
    }
    out
}

/// The admin form's text for `options`, one `Name: value, value` line each.
pub fn options_to_lines(options: &[ProductOption]) -> String {
    options
        .iter()
        .map(|o| format!("{}: {}", o.name, o.values.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `name: value` lines (attributes on the admin form, or one variant's option
/// values) into a map; `field` names a line without a colon.
pub fn pairs_from_lines(
    errors: &mut FormErrors,
    field: &str,
    text: &str,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .flat_map(|l| l.split(';'))
        .filter(|l| !l.trim().is_empty())
    {
        match line.split_once(':') {
            Some((k, v)) => {
                out.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            None => {
                errors.check::<(), _>(
                    field,
                    Err(format!("`{}` needs a `name: value` form", line.trim())),
                );
            }
        }
    }
    out
}

/// The admin form's text for a map, `name: value` pairs joined by `sep`.
pub fn pairs_to_lines(pairs: &BTreeMap<String, String>, sep: &str) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size() -> Vec<ProductOption> {
        vec![ProductOption {
            name: "Size".into(),
            values: vec!["S".into(), "M".into()],
        }]
    }

    fn values(pairs: &[(&str, &str)]) -> OptionValues {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn fields(errors: FormErrors) -> Vec<String> {
        match errors.finish() {
            Ok(()) => vec![],
            Err(e) => e
                .fields()
                .map(|f| f.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn consistent_variants_pass() {
        let mut errors = FormErrors::default();
        check_variant_options(
            &mut errors,
            &size(),
            &[values(&[("Size", "S")]), values(&[("Size", "M")])],
        );
        assert!(fields(errors).is_empty());
    }

    #[test]
    fn a_value_outside_the_option_a_missing_option_and_a_repeat_are_each_named() {
        let mut errors = FormErrors::default();
        check_variant_options(
            &mut errors,
            &size(),
            &[
                values(&[("Size", "XL")]),
                values(&[]),
                values(&[("Size", "S"), ("Color", "Red")]),
                values(&[("Size", "M")]),
                values(&[("Size", "M")]),
            ],
        );
        assert_eq!(
            fields(errors),
            [
                "variants[0].options.Size",
                "variants[1].options.Size",
                "variants[2].options.Color",
                "variants[4].options",
            ]
        );
    }

    #[test]
    fn options_need_distinct_names_and_values() {
        let mut errors = FormErrors::default();
        let parsed = parse_options(
            &mut errors,
            &[
                ProductOption {
                    name: "Size".into(),
                    values: vec!["S".into(), "S".into()],
                },
                ProductOption {
                    name: "size".into(),
                    values: vec![],
                },
            ],
        );
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            fields(errors),
            [
                "options[0].values[1]",
                "options[1].name",
                "options[1].values"
            ]
        );
    }

    #[test]
    fn form_lines_round_trip() {
        let mut errors = FormErrors::default();
        let parsed = options_from_lines(&mut errors, "Size: S, M\n\nColor: Red , Blue\n");
        assert_eq!(options_to_lines(&parsed), "Size: S, M\nColor: Red, Blue");
        let pairs = pairs_from_lines(&mut errors, "attributes", "material: Cotton\nbrand: Acme");
        assert_eq!(
            pairs_to_lines(&pairs, "\n"),
            "brand: Acme\nmaterial: Cotton"
        );
        assert!(fields(errors).is_empty());
        let mut errors = FormErrors::default();
        options_from_lines(&mut errors, "Size S M");
        assert_eq!(fields(errors), ["options[0].name"]);
    }
}
