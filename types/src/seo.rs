//! What search engines and link previews read from a page: absolute URLs and the product's
//! JSON-LD. Shared with the browser, so the hydrated head matches the server's exactly.

use crate::ProductDetail;
use serde_json::json;

/// `path_or_url` as an absolute URL on `site` (the public address, no trailing slash);
/// an image already stored under its own absolute address (S3, a CDN) is kept as it is.
pub fn absolute(site: &str, path_or_url: &str) -> String {
    if path_or_url.starts_with("https://") || path_or_url.starts_with("http://") {
        path_or_url.to_owned()
    } else {
        format!("{site}/{}", path_or_url.trim_start_matches('/'))
    }
}

/// The schema.org `Product` of a product page at `url`, with one `Offer` per variant, as
/// text that is safe inside `<script type="application/ld+json">`: the merchant's strings
/// cannot close the element, whatever they hold.
pub fn product_json_ld(product: &ProductDetail, site: &str, url: &str) -> String {
    let offers: Vec<_> = product
        .variants
        .iter()
        .map(|v| {
            json!({
                "@type": "Offer",
                "sku": v.sku,
                "name": v.name,
                "price": v.price.to_plain(),
                "priceCurrency": v.price.currency.as_str(),
                "availability": if v.available > 0 {
                    "https://schema.org/InStock"
                } else {
                    "https://schema.org/OutOfStock"
                },
                "url": format!("{url}?variant={}", crate::url_encode(&v.sku)),
            })
        })
        .collect();
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.summary.name,
        "description": product.description,
        "category": product.category_name,
        "url": url,
        "offers": offers,
    });
    if let Some(first) = product.variants.first() {
        doc["sku"] = json!(first.sku);
    }
    if let Some(image) = &product.summary.image_url {
        doc["image"] = json!(absolute(site, image));
    }
    script_safe(&doc.to_string())
}

/// JSON with `<`, `>` and `&` written as escapes: the same value to a JSON parser, and
/// nothing an HTML parser can read as the end of the script.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Currency, Money, ProductSummary, Variant};

    fn product(name: &str) -> ProductDetail {
        ProductDetail {
            summary: ProductSummary {
                slug: "mug".into(),
                name: name.into(),
                price: Money::new(1250, Currency::USD),
                image_url: Some("/media/mug.webp".into()),
                in_stock: true,
                category: "home".into(),
            },
            description: "A mug & a saucer".into(),
            category_name: "Home".into(),
            options: vec![],
            attributes: Default::default(),
            images: vec![],
            variants: vec![
                Variant {
                    sku: "MUG-S".into(),
                    name: "Small".into(),
                    price: Money::new(1250, Currency::USD),
                    available: 3,
                    options: Default::default(),
                },
                Variant {
                    sku: "MUG-L".into(),
                    name: "Large".into(),
                    price: Money::new(150_000, Currency::USD),
                    available: 0,
                    options: Default::default(),
                },
            ],
        }
    }

    #[test]
    fn offers_carry_price_currency_and_availability_per_variant() {
        let text = product_json_ld(
            &product("Mug"),
            "https://shop.example",
            "https://shop.example/products/mug",
        );
        let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(doc["@type"], "Product");
        assert_eq!(doc["image"], "https://shop.example/media/mug.webp");
        assert_eq!(doc["sku"], "MUG-S");
        let offers = doc["offers"].as_array().expect("offers");
        assert_eq!(offers.len(), 2);
        assert_eq!(offers[0]["price"], "12.50");
        assert_eq!(offers[0]["priceCurrency"], "USD");
        assert_eq!(offers[0]["availability"], "https://schema.org/InStock");
        assert_eq!(
            offers[1]["price"], "1500.00",
            "no digit grouping in machine prices"
        );
        assert_eq!(offers[1]["availability"], "https://schema.org/OutOfStock");
        assert_eq!(
            offers[1]["url"],
            "https://shop.example/products/mug?variant=MUG-L"
        );
    }

    #[test]
    fn merchant_text_cannot_close_the_script_element() {
        let name = "</script><script>alert(1)</script> \u{2028}";
        let text = product_json_ld(&product(name), "https://s", "https://s/products/mug");
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert!(!text.contains('\u{2028}'));
        let doc: serde_json::Value = serde_json::from_str(&text).expect("still valid JSON");
        assert_eq!(doc["name"], name, "the value survives intact");
        assert_eq!(doc["description"], "A mug & a saucer");
    }

    #[test]
    fn absolute_keeps_stored_urls_and_roots_paths() {
        assert_eq!(
            absolute("https://s", "/media/a.webp"),
            "https://s/media/a.webp"
        );
        assert_eq!(
            absolute("https://s", "https://cdn.example/a.webp"),
            "https://cdn.example/a.webp"
        );
    }
}
