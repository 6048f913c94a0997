//! Product images on S3 (`MEDIA_STORE=s3://bucket/prefix`), against the S3-compatible
//! server the test command starts: upload, renditions, serving with cache headers, deletes,
//! and what a missing bucket or an unreachable store does.

use crate::common::brokers::{self, Proxy};
use crate::common::{png, seed, served_image, spawn_with, test_config, TestApp};
use sqlx::PgPool;

async fn s3_app(db: PgPool, endpoint: &str, bucket: &str) -> (TestApp, String) {
    brokers::use_aws(endpoint);
    let store = format!("s3://{bucket}/shop");
    let app = spawn_with(db, &[("MEDIA_STORE", &store), ("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 1).await;
    let admin = app.admin("boss@example.com").await;
    (app, admin)
}

#[sqlx::test(migrations = "../migrations")]
async fn on_s3_an_upload_stores_two_renditions_served_with_cache_headers_and_deletes_them(
    db: PgPool,
) {
    let bucket = brokers::create_bucket().await;
    let (app, admin) = s3_app(db, &brokers::aws_endpoint(), &bucket).await;
    let prefix = "shop/products/classic-mug/";

    let (status, product) = app
        .upload_image(&admin, "classic-mug", "a.png", png(1600, 800))
        .await;
    assert_eq!(status, 200, "{product}");
    let large = product["image_url"].as_str().expect("image").to_owned();
    let thumb = product["thumb_url"].as_str().expect("thumb").to_owned();
    let mut stored = brokers::list_keys(&bucket, prefix).await;
    stored.sort();
    let mut want = vec![
        format!("shop/{}", large.trim_start_matches("/media/")),
        format!("shop/{}", thumb.trim_start_matches("/media/")),
    ];
    want.sort();
    assert_eq!(
        stored, want,
        "both renditions are in the bucket, under the prefix"
    );

    let img = served_image(&app, &large).await;
    assert_eq!((img.width(), img.height()), (1200, 600));
    assert_eq!(served_image(&app, &thumb).await.width(), 400);

    // A new image replaces the old renditions, in the bucket too.
    let (status, replaced) = app
        .upload_image(&admin, "classic-mug", "b.png", png(900, 900))
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_ne!(replaced["image_url"], product["image_url"]);
    let now = brokers::list_keys(&bucket, prefix).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(
        !now.iter().any(|k| want.contains(k)),
        "the old renditions were deleted: {now:?}"
    );
    assert_eq!(app.get(&large).await.status().as_u16(), 404);

    // Taking the image away deletes what is left of it; the seed's close-up drawing, the
    // gallery's next image, becomes the cover.
    let (status, bare) = app
        .call(
            "DELETE",
            "/api/admin/products/classic-mug/image",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{bare}");
    let close_up = "/media/products/classic-mug-detail.svg";
    assert_eq!(
        (bare["image_url"].as_str(), bare["thumb_url"].as_str()),
        (Some(close_up), Some(close_up)),
        "{bare}"
    );
    assert!(brokers::list_keys(&bucket, prefix).await.is_empty());
    let replaced_url = replaced["image_url"].as_str().expect("url");
    assert_eq!(app.get(replaced_url).await.status().as_u16(), 404);
    let (_, shop) = app.get_json("/api/catalog/products/classic-mug").await;
    assert_eq!(shop["image_url"], close_up, "{shop}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_missing_bucket_is_a_clear_startup_error(db: PgPool) {
    brokers::use_aws(&brokers::aws_endpoint());
    let dir = std::env::temp_dir();
    let config = test_config(&[("MEDIA_STORE", "s3://no-such-bucket-here/shop")], &dir);
    let redis = domain::redis::Redis::new(&config.redis_url, "test:s3:").expect("redis");
    let error = server::Application::build_with(config, db, redis)
        .await
        .err()
        .expect("startup refuses a bucket that is not there");
    let message = format!("{error:#}");
    assert!(
        message.contains("MEDIA_STORE s3://no-such-bucket-here/shop"),
        "{message}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unreachable_store_answers_503_with_a_message_never_a_500(db: PgPool) {
    let bucket = brokers::create_bucket().await;
    let mut proxy = Proxy::start(brokers::aws_addr()).await;
    let (app, admin) = s3_app(db, &proxy.url(), &bucket).await;
    let (status, product) = app
        .upload_image(&admin, "classic-mug", "a.png", png(300, 300))
        .await;
    assert_eq!(status, 200, "{product}");
    let large = product["image_url"].as_str().expect("image").to_owned();

    proxy.pause().await;
    let res = app.get(&large).await;
    assert_eq!(res.status().as_u16(), 503);
    let (status, body) = app
        .upload_image(&admin, "classic-mug", "b.png", png(300, 300))
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("image store")),
        "{body}"
    );
    let (_, still) = app.get_json("/api/catalog/products/classic-mug").await;
    assert_eq!(
        still["image_url"], product["image_url"],
        "a failed upload changes nothing"
    );

    proxy.resume().await;
    assert_eq!(
        app.get(&large).await.status().as_u16(),
        200,
        "served again once it is back"
    );
}
