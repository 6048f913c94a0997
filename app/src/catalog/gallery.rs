//! The product page's gallery: the chosen image large, and a thumbnail link for each.
//! Without JavaScript a thumbnail is a link to `?image=N`; after hydration it swaps the
//! large image in place. Every image carries its size, so nothing shifts as it loads.

use leptos::prelude::*;
use types::gallery::ProductImage;

// The demo's drawings are square; an image stored before sizes were kept is shown square.
const FALLBACK_EDGE: u32 = 480;

/// The gallery for `images`, opening on `first`. `query` is the page's other query string
/// (`option.Size=M&`…), which thumbnail links keep.
#[component]
pub fn Gallery(
    images: Vec<ProductImage>,
    first: usize,
    query: String,
    name: String,
) -> impl IntoView {
    if images.is_empty() {
        return view! {
            <img
                class="product-image"
                src=""
                alt=format!("No photo of {name} yet")
                width=FALLBACK_EDGE
                height=FALLBACK_EDGE
            />
        }
        .into_any();
    }
    let count = images.len();
    let shown = RwSignal::new(first.min(count - 1));
    let images = StoredValue::new(images);
    let large = move || images.with_value(|all| all[shown.get()].clone());
    let thumbs = (count > 1).then(|| {
        view! {
            <ul class="gallery-thumbs" aria-label="Product images">
                {(0..count)
                    .map(|i| {
                        let image = images.with_value(|all| all[i].clone());
                        let label = format!("Image {} of {count}: {}", i + 1, image.alt);
                        let height = thumb_height(&image);
                        view! {
                            <li>
                                <a
                                    href=format!("?{query}image={i}")
                                    aria-label=label
                                    aria-current=move || (shown.get() == i).then_some("true")
                                    on:click=move |ev| {
                                        ev.prevent_default();
                                        shown.set(i);
                                    }
                                >
                                    <img
                                        src=image.thumb_url
                                        alt=""
                                        width="80"
                                        height=height
                                        loading="lazy"
                                    />
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    });
    view! {
        <div class="gallery">
            <img
                class="product-image"
                src=move || large().url
                alt=move || large().alt
                width=move || large().width.unwrap_or(FALLBACK_EDGE)
                height=move || large().height.unwrap_or(FALLBACK_EDGE)
            />
            {thumbs}
        </div>
    }
    .into_any()
}

/// A thumbnail's height at 80 px wide, keeping the image's shape.
fn thumb_height(image: &ProductImage) -> u32 {
    match (image.width, image.height) {
        (Some(w), Some(h)) if w > 0 => (u64::from(h) * 80 / u64::from(w)).max(1) as u32,
        _ => 80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_the_shape_of_their_image() {
        let image = |w, h| ProductImage {
            url: String::new(),
            thumb_url: String::new(),
            alt: String::new(),
            width: w,
            height: h,
        };
        assert_eq!(thumb_height(&image(Some(1200), Some(600))), 40);
        assert_eq!(thumb_height(&image(None, None)), 80);
    }
}
