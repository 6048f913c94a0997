//! A product's gallery: ordered images, each with the alt text the merchant gave and the
//! size of its large rendition, so a page can reserve the space before it loads.

use crate::accounts::FormErrors;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The longest alt text, in characters.
pub const MAX_ALT_CHARS: usize = 300;

/// The most images one product may have.
pub const MAX_IMAGES: usize = 20;

/// One gallery image: `{"url","thumb_url","alt","width","height"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductImage {
    /// The large rendition.
    pub url: String,
    /// The thumbnail rendition.
    pub thumb_url: String,
    /// What the image shows, for people who cannot see it.
    pub alt: String,
    /// The large rendition's width in pixels; `null` only for images stored before the
    /// gallery existed.
    pub width: Option<u32>,
    /// Its height in pixels, likewise.
    pub height: Option<u32>,
}

/// One entry of a gallery edit: `{"url","alt"}`, in the new order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageOrder {
    /// An image the product has, by its `url`.
    pub url: String,
    /// Its alt text.
    pub alt: String,
}

/// Checks alt text: trimmed, 1 to 300 characters, no control characters.
pub fn parse_alt(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        Err("is required: say what the image shows".to_owned())
    } else if t.chars().count() > MAX_ALT_CHARS {
        Err(format!("must be at most {MAX_ALT_CHARS} characters"))
    } else if t.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(t.to_owned())
    }
}

/// Checks a gallery edit's alt texts and that no image is listed twice, naming problems
/// `images[i].alt` and `images[i].url`. Whether each image is the product's own is the
/// domain's check, against what is stored.
pub fn parse_image_order(errors: &mut FormErrors, raw: &[ImageOrder]) -> Vec<ImageOrder> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, image) in raw.iter().enumerate() {
        let alt = errors.check(&format!("images[{i}].alt"), parse_alt(&image.alt));
        let url = image.url.trim().to_owned();
        if !seen.insert(url.clone()) {
            errors.check::<(), _>(&format!("images[{i}].url"), Err("is listed twice"));
        }
        if let Some(alt) = alt {
            out.push(ImageOrder { url, alt });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_text_is_required_and_images_are_listed_once() {
        let mut errors = FormErrors::default();
        let order = parse_image_order(
            &mut errors,
            &[
                ImageOrder {
                    url: "/media/a.jpg".into(),
                    alt: "  A red mug  ".into(),
                },
                ImageOrder {
                    url: "/media/a.jpg".into(),
                    alt: " ".into(),
                },
            ],
        );
        assert_eq!(order[0].alt, "A red mug");
        let err = errors.finish().expect_err("invalid");
        let fields = err.fields().expect("fields");
        assert!(fields.contains_key("images[1].alt") && fields.contains_key("images[1].url"));
    }
}
