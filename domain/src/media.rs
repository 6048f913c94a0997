//! Where product images live, through `object_store`: the local filesystem is the embedded
//! default (`MEDIA_STORE=file://…`), S3 or MinIO the production choice (`s3://bucket/prefix`,
//! credentials from the standard AWS environment, IRSA included). Uploads are sniffed,
//! decoded under limits and re-encoded into two renditions, so what we serve is always an
//! image we made.

use bytes::Bytes;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use object_store::{
    aws::{AmazonS3Builder, AmazonS3ConfigKey},
    local::LocalFileSystem,
    path::Path as StorePath,
    ClientConfigKey, ObjectStore, PutPayload, RetryConfig,
};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use types::AppError;

/// The largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// The most pixels an upload may have: 24 megapixels, a 6000 × 4000 camera photo. A few
/// compressed megabytes can claim far more; this is read from the header and refused
/// before anything is decoded.
pub const MAX_PIXELS: u64 = 24_000_000;

/// Long edge of the product-page rendition, in pixels.
pub const LARGE_EDGE: u32 = 1200;
/// Long edge of the listing rendition, in pixels.
pub const THUMB_EDGE: u32 = 400;

/// A media store, served by the web layer under `/media/`.
#[derive(Clone, Debug)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    location: Arc<str>,
    remote: bool,
}

/// How long one S3 call may take, retries included, before the request is answered 503:
/// object_store's defaults (ten retries over three minutes) would hold a shopper's
/// request, and a pool connection, for minutes while the store is down.
const S3_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A store failure other than a missing object: the store is down or refusing us, which is
/// the caller's 503, never a 500 or a panic. The cause goes to the log.
fn unavailable(what: &str, e: object_store::Error) -> AppError {
    tracing::error!(error = %e, "media store {what} failed");
    AppError::Unavailable("The image store is not answering; try again shortly.".to_owned())
}

/// A stored object, for serving.
#[derive(Clone, Debug)]
pub struct MediaObject {
    /// The stored bytes.
    pub bytes: Bytes,
    /// The store's version tag, for `If-None-Match`.
    pub etag: Option<String>,
}

enum Target {
    File(String),
    S3 {
        bucket: String,
        prefix: Option<String>,
    },
}

fn parse(url: &str) -> Result<Target, String> {
    match url.split_once("://") {
        Some(("file", path)) if !path.is_empty() => Ok(Target::File(path.to_owned())),
        Some(("s3", rest)) if !rest.is_empty() => {
            let (bucket, prefix) = match rest.split_once('/') {
                Some((b, p)) => (b, Some(p.trim_matches('/').to_owned()).filter(|p| !p.is_empty())),
                None => (rest, None),
            };
            if bucket.is_empty() {
                return Err("MEDIA_STORE s3:// needs a bucket, e.g. s3://shop-media".to_owned());
            }
            Ok(Target::S3 { bucket: bucket.to_owned(), prefix })
        }
        Some((scheme, _)) => Err(format!(
            "MEDIA_STORE scheme `{scheme}` is not supported; use file://<directory> or s3://<bucket>[/prefix]"
        )),
        None => Err("MEDIA_STORE must look like file://<directory> or s3://<bucket>".to_owned()),
    }
}

impl MediaStore {
    /// The URL path prefix media is served under.
    pub const URL_PREFIX: &'static str = "/media";

    /// Checks the shape of `MEDIA_STORE` without touching anything.
    pub fn check_url(url: &str) -> Result<(), String> {
        parse(url).map(|_| ())
    }

    /// Opens `MEDIA_STORE`: `file://./data/media` (created if missing) or `s3://bucket/prefix`.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let store: Arc<dyn ObjectStore> = match parse(url)? {
            Target::File(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("MEDIA_STORE directory {dir}: {e}"))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(&dir)
                        .map_err(|e| format!("MEDIA_STORE {dir}: {e}"))?,
                )
            }
            Target::S3 { bucket, prefix } => {
                let s3 = AmazonS3Builder::from_env()
                    .with_bucket_name(&bucket)
                    .with_retry(RetryConfig {
                        max_retries: 2,
                        retry_timeout: S3_CALL_TIMEOUT,
                        ..RetryConfig::default()
                    })
                    // Set key by key: replacing the client options would drop AWS_ALLOW_HTTP.
                    .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "10s")
                    .with_config(
                        AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                        "2s",
                    )
                    .build()
                    .map_err(|e| format!("MEDIA_STORE s3://{bucket}: {e}"))?;
                match prefix {
                    Some(p) => Arc::new(object_store::prefix::PrefixStore::new(s3, p)),
                    None => Arc::new(s3),
                }
            }
        };
        let remote = url.starts_with("s3://");
        Ok(MediaStore {
            store,
            location: url.into(),
            remote,
        })
    }

    /// Checks that the store answers: for S3, that the bucket exists and these credentials
    /// may list it. Startup calls this, so a wrong bucket is a clear error, not a first
    /// shopper's 503.
    pub async fn verify(&self) -> Result<(), String> {
        if !self.remote {
            return Ok(());
        }
        let probe = self.store.list_with_delimiter(None);
        match tokio::time::timeout(S3_CALL_TIMEOUT, probe).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("MEDIA_STORE {}: {e}", self.location)),
            Err(_) => Err(format!(
                "MEDIA_STORE {}: no answer within {S3_CALL_TIMEOUT:?}",
                self.location
            )),
        }
    }

    /// Where the store points, for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The public URL of `key`.
    pub fn url(key: &str) -> String {
        format!("{}/{key}", Self::URL_PREFIX)
    }

    /// Writes `bytes` under `key`; readers never see half an object.
    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<String, AppError> {
        if !valid_key(key) {
            return Err(AppError::BadRequest(format!("invalid media key `{key}`")));
        }
        self.store
            .put(&StorePath::from(key), PutPayload::from_bytes(bytes.into()))
            .await
            .map_err(|e| unavailable("put", e))?;
        Ok(Self::url(key))
    }

    /// Deletes `key`; one already gone is no error.
    pub async fn delete(&self, key: &str) -> Result<(), AppError> {
        if !valid_key(key) {
            return Err(AppError::BadRequest(format!("invalid media key `{key}`")));
        }
        match self.store.delete(&StorePath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable("delete", e)),
        }
    }

    /// The key behind one of our `/media/…` URLs; `None` for anything else (an image the
    /// catalog links elsewhere is not ours to delete).
    pub fn key_of(url: &str) -> Option<&str> {
        url.strip_prefix(Self::URL_PREFIX)?
            .strip_prefix('/')
            .filter(|k| valid_key(k))
    }

    /// Reads `key`; `None` when it does not exist or is not a valid key.
    pub async fn get(&self, key: &str) -> Result<Option<MediaObject>, AppError> {
        if !valid_key(key) {
            return Ok(None);
        }
        match self.store.get(&StorePath::from(key)).await {
            Ok(found) => {
                let etag = found.meta.e_tag.clone();
                let bytes = found.bytes().await.map_err(|e| unavailable("read", e))?;
                Ok(Some(MediaObject { bytes, etag }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(unavailable("get", e)),
        }
    }

    /// Sniffs, checks and resizes an uploaded image, then stores its two renditions under
    /// `products/{slug}/`. The uploaded file name is never used.
    pub async fn store_product_image(
        &self,
        slug: &str,
        upload: Bytes,
    ) -> Result<StoredImage, AppError> {
        let (large, thumb, hash, (width, height)) =
            tokio::task::spawn_blocking(move || renditions(&upload))
                .await
                .map_err(|e| AppError::internal("image task", e))??;
        let url = self
            .put(&format!("products/{slug}/{hash}-{LARGE_EDGE}.jpg"), large)
            .await?;
        let thumb_url = self
            .put(&format!("products/{slug}/{hash}-{THUMB_EDGE}.jpg"), thumb)
            .await?;
        Ok(StoredImage {
            url,
            thumb_url,
            width,
            height,
        })
    }
}

/// A stored upload: its two renditions' URLs and the large one's size in pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredImage {
    /// The large rendition.
    pub url: String,
    /// The thumbnail.
    pub thumb_url: String,
    /// The large rendition's width.
    pub width: u32,
    /// Its height.
    pub height: u32,
}

/// The content type for a stored key, by its extension (we name every object ourselves).
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn invalid(message: &str) -> AppError {
    AppError::invalid_field("image", message)
}

/// The large and thumbnail JPEGs of an upload, a short content hash, and the large one's
/// (width, height).
pub type Renditions = (Vec<u8>, Vec<u8>, String, (u32, u32));

/// Decodes `upload` by its content (never its name), under size and pixel limits, and
/// re-encodes a large and a thumbnail JPEG. Also answers a short content hash.
pub fn renditions(upload: &[u8]) -> Result<Renditions, AppError> {
    if upload.is_empty() {
        return Err(invalid("Choose an image to upload."));
    }
    if upload.len() > MAX_UPLOAD_BYTES {
        return Err(invalid("The image is larger than 5 MiB."));
    }
    let format = image::guess_format(upload)
        .ok()
        .filter(|f| {
            matches!(
                f,
                ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
            )
        })
        .ok_or_else(|| invalid("That file is not a JPEG, PNG, WebP or GIF image."))?;
    let (width, height) = ImageReader::with_format(std::io::Cursor::new(upload), format)
        .into_dimensions()
        .map_err(|_| invalid("The image could not be read; it may be damaged."))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(invalid(&format!(
            "The image is {width} × {height} pixels; upload one of at most 24 megapixels."
        )));
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(upload), format);
    let mut limits = Limits::default();
    // The header check above can be lied to by formats with several frames or layers.
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| {
        invalid("The image could not be read; it may be damaged or too large in pixels.")
    })?;
    let hash = hex::encode(&Sha256::digest(upload)[..8]);
    let large = fit(&img, LARGE_EDGE);
    Ok((
        jpeg(&large)?,
        jpeg(&fit(&img, THUMB_EDGE))?,
        hash,
        (large.width(), large.height()),
    ))
}

fn fit(img: &DynamicImage, edge: u32) -> DynamicImage {
    if img.width() <= edge && img.height() <= edge {
        img.clone()
    } else {
        img.resize(edge, edge, image::imageops::FilterType::Triangle)
    }
}

/// JPEG has no alpha: transparent pixels are laid over white rather than black.
fn jpeg(img: &DynamicImage) -> Result<Vec<u8>, AppError> {
    let rgba = img.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (x, y, p) in rgba.enumerate_pixels() {
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        rgb.put_pixel(x, y, image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])]));
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&rgb)
        .map_err(|e| AppError::internal("jpeg encode", e))?;
    Ok(out)
}

/// Keys are relative paths of `[a-z0-9._-]` segments; no `..`, no absolute paths.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        assert!(valid_key("products/mug.svg"));
        for bad in [
            "",
            "../etc/passwd",
            "/abs",
            "a//b",
            "products/.hidden",
            "UPPER.svg",
            "a\\b",
        ] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn parses_file_and_s3_urls_and_refuses_unknown_schemes() {
        assert!(MediaStore::check_url("file://./data/media").is_ok());
        assert!(MediaStore::check_url("s3://shop-media").is_ok());
        assert!(MediaStore::check_url("s3://shop-media/prod/images").is_ok());
        assert!(MediaStore::check_url("s3://").is_err());
        assert!(MediaStore::check_url("ftp://x").is_err());
        assert!(MediaStore::check_url("./data").is_err());
    }

    #[tokio::test]
    async fn put_writes_the_object_and_get_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("bazaar-media-{}", uuid::Uuid::new_v4()));
        let store = MediaStore::from_url(&format!("file://{}", dir.display())).expect("ok");
        let url = store
            .put("products/x.svg", &b"<svg/>"[..])
            .await
            .expect("written");
        assert_eq!(url, "/media/products/x.svg");
        assert_eq!(
            std::fs::read(dir.join("products/x.svg")).expect("read"),
            b"<svg/>"
        );
        let back = store
            .get("products/x.svg")
            .await
            .expect("get")
            .expect("found");
        assert_eq!(&back.bytes[..], b"<svg/>");
        assert!(store
            .get("products/missing.svg")
            .await
            .expect("get")
            .is_none());
        assert!(store.put("../x.svg", &b""[..]).await.is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("png");
        out.into_inner()
    }

    #[test]
    fn a_large_image_becomes_two_jpegs_within_their_edges() {
        let (large, thumb, hash, size) = renditions(&png(2400, 1200)).expect("image");
        assert_eq!(size, (1200, 600));
        let l = image::load_from_memory(&large).expect("large decodes");
        let t = image::load_from_memory(&thumb).expect("thumb decodes");
        assert_eq!((l.width(), l.height()), (1200, 600));
        assert_eq!((t.width(), t.height()), (400, 200));
        assert_eq!(
            image::guess_format(&large).expect("format"),
            ImageFormat::Jpeg
        );
        assert_eq!(hash.len(), 16);
    }

    #[test]
    fn text_renamed_to_png_and_oversized_files_are_refused() {
        let err = renditions(b"<?php system($_GET['c']); ?>").expect_err("not an image");
        assert_eq!(err.status(), 422);
        let big = vec![0u8; MAX_UPLOAD_BYTES + 1];
        assert!(renditions(&big)
            .expect_err("too big")
            .to_string()
            .contains("5 MiB"));
        let mut truncated = png(50, 50);
        truncated.truncate(60);
        assert_eq!(renditions(&truncated).expect_err("damaged").status(), 422);
    }

    /// The resident memory now and its peak since the last reset, in MiB.
    fn rss_mib() -> (u64, u64) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .map_or(0, |kib| kib / 1024)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    #[test]
    fn a_small_file_claiming_49_megapixels_is_refused_before_it_is_decoded() {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        use image::ImageEncoder;
        let (width, height) = (7_000u32, 7_000u32);
        let mut bomb = Vec::new();
        {
            let pixels = vec![0u8; (width * height) as usize];
            PngEncoder::new_with_quality(&mut bomb, CompressionType::Fast, FilterType::NoFilter)
                .write_image(&pixels, width, height, image::ExtendedColorType::L8)
                .expect("png");
        }
        assert!(
            bomb.len() < MAX_UPLOAD_BYTES,
            "{} bytes pass the size check",
            bomb.len()
        );
        // Reset the peak (Linux: 5 > clear_refs) so only what renditions() takes counts.
        std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
        let (rss, _) = rss_mib();
        let err = renditions(&bomb).expect_err("too many pixels");
        let (_, peak) = rss_mib();
        assert_eq!(err.status(), 422);
        assert!(err.to_string().contains("24 megapixels"), "{err}");
        assert!(
            peak.saturating_sub(rss) < 16,
            "decoding took {} MiB",
            peak - rss
        );
    }
}
