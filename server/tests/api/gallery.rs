//! A product's gallery: uploads with alt text and size, its order, its cover, and the
//! accessible gallery on the product page, which works without JavaScript.

use crate::common::{png, png_part, spawn_seeded, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn add_image(
    app: &TestApp,
    cookie: &str,
    slug: &str,
    bytes: Vec<u8>,
    alt: Option<&str>,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part("image", png_part("photo.png", bytes));
    if let Some(alt) = alt {
        form = form.text("alt", alt.to_owned());
    }
    app.post_multipart(cookie, &format!("/api/admin/products/{slug}/images"), form)
        .await
}

fn stored(app: &TestApp, url: &str) -> bool {
    let key = url.strip_prefix("/media/").expect("a media URL");
    app.media_dir.join(key).exists()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_gallery_keeps_its_order_alt_text_and_sizes_and_its_first_image_is_the_cover(db: PgPool) {
    let app = spawn_seeded(db).await;
    let admin = app.admin("boss@example.com").await;

    // The seed's two drawings open the gallery, described and sized; the whole one is the cover.
    let (_, mug) = app.get_json("/api/catalog/products/classic-mug").await;
    assert_eq!(mug["images"].as_array().expect("images").len(), 2, "{mug}");
    assert_eq!(mug["images"][0]["width"], 480);
    assert_eq!(mug["images"][1]["height"], 480);
    assert_eq!(mug["images"][0]["url"], mug["image_url"]);
    assert_eq!(mug["images"][0]["alt"], "Drawing of the Classic Mug");
    assert_eq!(
        mug["images"][1]["alt"],
        "Close-up drawing of the Classic Mug"
    );

    // An upload needs its alt text, and nothing is stored without it.
    let (status, body) = add_image(&app, &admin, "classic-mug", png(1600, 800), None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["alt"].is_array(), "{body}");
    let (status, body) = add_image(
        &app,
        &admin,
        "classic-mug",
        png(1600, 800),
        Some("The mug from above"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let added = body["images"][2].clone();
    assert_eq!(
        (added["width"].clone(), added["height"].clone()),
        (json!(1200), json!(600))
    );
    assert_eq!(added["alt"], "The mug from above");
    let photo = added["url"].as_str().expect("url").to_owned();
    assert!(stored(&app, &photo));

    // Reordering makes the photo the cover, which listings show.
    let drawing = mug["images"][0]["url"].as_str().expect("url").to_owned();
    let close_up = mug["images"][1]["url"].as_str().expect("url").to_owned();
    let order = json!({"images": [
        {"url": photo, "alt": "The mug from above, on oak"},
        {"url": drawing, "alt": "A drawing of the mug"},
        {"url": close_up, "alt": "A close-up drawing of the mug"}
    ]});
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/classic-mug",
            &admin,
            Some(order),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, mug) = app.get_json("/api/catalog/products/classic-mug").await;
    assert_eq!(mug["image_url"], photo.as_str());
    assert_eq!(mug["images"][0]["alt"], "The mug from above, on oak");
    assert_eq!(mug["images"][1]["url"], drawing.as_str());
    assert_eq!(mug["images"][2]["url"], close_up.as_str());

    // An edit must name the product's own images, each once, and all of them.
    for (images, field) in [
        (
            json!([{"url": "/media/elsewhere.jpg", "alt": "x"}, {"url": drawing, "alt": "y"},
                   {"url": close_up, "alt": "z"}]),
            "images[0].url",
        ),
        (
            json!([{"url": photo, "alt": "x"}, {"url": drawing, "alt": "y"}]),
            "images",
        ),
        (
            json!([{"url": photo, "alt": " "}, {"url": drawing, "alt": "y"},
                   {"url": close_up, "alt": "z"}]),
            "images[0].alt",
        ),
    ] {
        let (status, body) = app
            .call(
                "PATCH",
                "/api/admin/products/classic-mug",
                &admin,
                Some(json!({"images": images})),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }

    // Removing the cover makes the next image the cover and deletes its renditions.
    let (status, body) = app
        .call(
            "DELETE",
            "/api/admin/products/classic-mug/images/0",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["image_url"], drawing.as_str());
    assert_eq!(body["images"].as_array().expect("images").len(), 2);
    assert!(
        !stored(&app, &photo),
        "the removed photo's rendition is gone"
    );
    let (status, _) = app
        .call(
            "DELETE",
            "/api/admin/products/classic-mug/images/5",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "DELETE",
            "/api/admin/products/classic-mug/images/first",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_product_page_shows_the_gallery_and_opens_on_the_image_its_link_names(db: PgPool) {
    let app = spawn_seeded(db).await;
    let admin = app.admin("boss@example.com").await;
    let (status, body) = add_image(
        &app,
        &admin,
        "classic-mug",
        png(900, 600),
        Some("The handle, close up"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let photo = body["images"][2]["url"].as_str().expect("url").to_owned();

    let (status, html) = app.get_html("/products/classic-mug?image=2").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(
            r#"src="{photo}" alt="The handle, close up" width="900" height="600""#
        )),
        "{html}"
    );
    assert!(html.contains(r#"aria-label="Product images""#), "{html}");
    assert!(
        html.contains(r#"href="?image=0" aria-label="Image 1 of 3: Drawing of the Classic Mug""#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"href="?image=1" aria-label="Image 2 of 3: Close-up drawing of the Classic Mug""#
        ),
        "{html}"
    );
    assert!(
        html.contains(
            r#"href="?image=2" aria-label="Image 3 of 3: The handle, close up" aria-current="true""#
        ),
        "{html}"
    );
}
