//! The product page's gallery panel: each image with its alt text and place, a form that
//! saves both, a remove button per image, and an upload that asks what the image shows.
//! Every part is a plain form, so it works without JavaScript.

use super::api::SaveGallery;
use crate::accounts::{last_error, FormAlert};
use leptos::prelude::*;
use types::gallery::ProductImage;

/// The gallery panel for product `slug`.
#[component]
pub fn GalleryPanel(slug: String, images: Vec<ProductImage>) -> impl IntoView {
    let save = ServerAction::<SaveGallery>::new();
    let error = last_error(save.value());
    let count = images.len();
    let rows = images
        .into_iter()
        .enumerate()
        .map(|(i, image)| {
            let remove = format!("/admin/products/{slug}/images/{i}/delete");
            view! {
                <li class="gallery-row">
                    <img
                        class="admin-image"
                        src=image.url.clone()
                        alt=""
                        width=image.width.unwrap_or(480)
                        height=image.height.unwrap_or(480)
                    />
                    <input
                        type="hidden"
                        form="gallery-form"
                        name=format!("images[{i}][url]")
                        value=image.url
                    />
                    <label for=format!("alt-{i}")>{format!("Alt text of image {}", i + 1)}</label>
                    <input
                        id=format!("alt-{i}")
                        form="gallery-form"
                        name=format!("images[{i}][alt]")
                        value=image.alt
                        required
                        maxlength="300"
                    />
                    <label for=format!("place-{i}")>{format!("Place of image {}", i + 1)}</label>
                    <input
                        id=format!("place-{i}")
                        form="gallery-form"
                        name=format!("images[{i}][place]")
                        type="number"
                        min="1"
                        max=count.to_string()
                        value=(i + 1).to_string()
                    />
                    <form method="post" action=remove>
                        <button type="submit" class="secondary">
                            {format!("Remove image {}", i + 1)}
                        </button>
                    </form>
                </li>
            }
        })
        .collect_view();
    let upload = format!("/admin/products/{slug}/images");
    view! {
        <ol class="gallery-rows">{rows}</ol>
        {(count > 0)
            .then(|| {
                view! {
                    <ActionForm action=save attr:id="gallery-form" attr:class="gallery-form">
                        <FormAlert error />
                        <input type="hidden" name="slug" value=slug.clone() />
                        <button type="submit">"Save gallery"</button>
                    </ActionForm>
                }
            })}
        <form method="post" action=upload enctype="multipart/form-data" class="upload-form">
            <label for="image">"Upload an image (JPEG, PNG, WebP or GIF, up to 5 MiB)"</label>
            <input
                id="image"
                type="file"
                name="image"
                accept="image/jpeg,image/png,image/webp,image/gif"
                required
            />
            <label for="image-alt">"Alt text: what the image shows"</label>
            <input id="image-alt" name="alt" required maxlength="300" />
            <button type="submit">"Upload image"</button>
        </form>
    }
}
