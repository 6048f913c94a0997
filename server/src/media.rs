//! Product images over HTTP: serving stored objects under `/media/`, and the admin's
//! upload (a plain multipart form, so it works without JavaScript, plus the JSON twin).

use crate::api::Failures;
use crate::AppState;
use axum::{
    body::{Body, Bytes},
    extract::{Multipart, Path, State},
    http::{header, HeaderMap, HeaderValue, Request, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Json,
};
use domain::admin::Actor;
use domain::media::{content_type, MAX_UPLOAD_BYTES};
use types::error::ErrorBody;
use types::{admin::AdminProduct, AppError};
use web::RequireAdmin;

/// Room for a 5 MiB image plus the multipart envelope; the image itself is checked exactly.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// Whether `path` is an image upload, which gets [`UPLOAD_BODY_LIMIT`].
pub fn is_upload_path(path: &str) -> bool {
    (path.starts_with("/admin/products/") || path.starts_with("/api/admin/products/"))
        && (path.ends_with("/image") || path.ends_with("/images"))
}

/// Bodies over the limit get 413 before any handler reads them; uploads have their own.
pub async fn limit_body(default: usize, req: Request<Body>, next: Next) -> Response {
    let limit = if is_upload_path(req.uri().path()) {
        UPLOAD_BODY_LIMIT
    } else {
        default
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
    next.run(req).await
}

/// `GET /media/{key}`: a stored object with long-lived caching and an ETag.
pub async fn serve(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(object) = state.media.get(&key).await? else {
        return Err(AppError::not_found("image"));
    };
    let etag = object.etag.map(|e| format!("\"{}\"", e.trim_matches('"')));
    if let (Some(tag), Some(seen)) = (&etag, headers.get(header::IF_NONE_MATCH)) {
        if seen.as_bytes() == tag.as_bytes() {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
    }
    let mut res = (
        [
            (header::CONTENT_TYPE, content_type(&key)),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        object.bytes,
    )
        .into_response();
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        res.headers_mut().insert(header::ETAG, tag);
    }
    Ok(res)
}

/// The `image` file of a multipart upload and its `alt` text (empty when not sent); the
/// file name and declared type are ignored. Both upload forms read their fields here.
async fn upload_fields(mut form: Multipart) -> Result<(Bytes, String), AppError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("The upload could not be read: {e}"))
    };
    let (mut image, mut alt) = (None, String::new());
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("image") => {
                image = Some(field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::invalid_field("image", "The image is larger than 5 MiB.")
                    } else {
                        unreadable(e)
                    }
                })?)
            }
            Some("alt") => alt = field.text().await.map_err(unreadable)?,
            _ => {}
        }
    }
    let image =
        image.ok_or_else(|| AppError::invalid_field("image", "Choose an image to upload."))?;
    Ok((image, alt))
}

async fn store(
    state: &AppState,
    user: &types::User,
    slug: &str,
    form: Multipart,
) -> Result<AdminProduct, AppError> {
    let (upload, _) = upload_fields(form).await?;
    state
        .services
        .catalog
        .upload_image(&Actor::of(user)?, slug, &state.media, upload)
        .await
}

/// The upload form: one file in the field `image`.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: the form is read as multipart"
)]
pub struct ImageUpload {
    /// A JPEG, PNG, WebP or GIF, at most 5 MiB and 24 megapixels.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    image: Vec<u8>,
}

/// `POST /api/admin/products/{slug}/image` (multipart, field `image`): the updated product.
#[utoipa::path(
    post,
    path = "/admin/products/{slug}/image",
    tag = "admin",
    operation_id = "adminUploadImage",
    params(("slug" = String, Path, description = "The product's slug")),
    request_body(content = inline(ImageUpload), content_type = "multipart/form-data"),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The product with its new image", body = AdminProduct),
        (status = 400, description = "Not a multipart form", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 413, description = "Over 5 MiB", body = ErrorBody),
        (status = 422, description = "No `image` field, or a file that is not a JPEG, PNG, WebP or GIF within 24 megapixels", body = ErrorBody),
        Failures,
    )
)]
pub async fn upload_api(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<Json<AdminProduct>, AppError> {
    Ok(Json(store(&state, &user, &slug, form).await?))
}

/// `POST /admin/products/{slug}/image` from the edit page: back to it, with the outcome.
pub async fn upload_form(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let back = format!("/admin/products/{slug}");
    match store(&state, &user, &slug, form).await {
        Ok(_) => Ok(Redirect::to(&format!("{back}?image=saved")).into_response()),
        Err(AppError::Validation { message, .. }) => Ok(Redirect::to(&format!(
            "{back}?image_error={}",
            types::url_encode(&message)
        ))
        .into_response()),
        Err(e) => Err(e),
    }
}

/// `DELETE /api/admin/products/{slug}/image`: the product without its image, whose stored
/// renditions are deleted.
#[utoipa::path(
    delete,
    path = "/admin/products/{slug}/image",
    tag = "admin",
    operation_id = "adminRemoveImage",
    params(("slug" = String, Path, description = "The product's slug")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The product, now without an image", body = AdminProduct),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        Failures,
    )
)]
pub async fn remove_api(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<Json<AdminProduct>, AppError> {
    let product = state
        .services
        .catalog
        .remove_image(&Actor::of(&user)?, &slug, &state.media)
        .await?;
    Ok(Json(product))
}

/// `POST /admin/products/{slug}/image/delete` from the edit page: back to it.
pub async fn remove_form(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    state
        .services
        .catalog
        .remove_image(&Actor::of(&user)?, &slug, &state.media)
        .await?;
    Ok(Redirect::to(&format!("/admin/products/{slug}?image=removed")).into_response())
}

async fn add(
    state: &AppState,
    user: &types::User,
    slug: &str,
    form: Multipart,
) -> Result<AdminProduct, AppError> {
    let (image, alt) = upload_fields(form).await?;
    state
        .services
        .catalog
        .add_image(&Actor::of(user)?, slug, &state.media, image, &alt)
        .await
}

/// The gallery upload form: one file in `image` and what it shows in `alt`.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: the form is read as multipart"
)]
pub struct GalleryUpload {
    /// A JPEG, PNG, WebP or GIF, at most 5 MiB and 24 megapixels.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    image: Vec<u8>,
    /// What the image shows, 1 to 300 characters.
    alt: String,
}

/// `POST /api/admin/products/{slug}/images` (multipart, `image` and `alt`): the product,
/// with the upload at the end of its gallery.
#[utoipa::path(
    post,
    path = "/admin/products/{slug}/images",
    tag = "admin",
    operation_id = "adminAddImage",
    params(("slug" = String, Path, description = "The product's slug")),
    request_body(content = inline(GalleryUpload), content_type = "multipart/form-data"),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 201, description = "The product with the image added", body = AdminProduct),
        (status = 400, description = "Not a multipart form", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 409, description = "The product already has this picture", body = ErrorBody),
        (status = 413, description = "Over 5 MiB", body = ErrorBody),
        (status = 422, description = "No `image`, no `alt`, a file that is not an image within the limits, or a full gallery", body = ErrorBody),
        Failures,
    )
)]
pub async fn add_api(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<(StatusCode, Json<AdminProduct>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(add(&state, &user, &slug, form).await?),
    ))
}

/// `POST /admin/products/{slug}/images` from the edit page: back to it, with the outcome.
pub async fn add_form(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let back = format!("/admin/products/{slug}");
    match add(&state, &user, &slug, form).await {
        Ok(_) => Ok(Redirect::to(&format!("{back}?image=added")).into_response()),
        Err(AppError::Validation { message, fields }) => {
            let detail = fields.values().flatten().next().cloned().unwrap_or(message);
            Ok(Redirect::to(&format!(
                "{back}?image_error={}",
                types::url_encode(&detail)
            ))
            .into_response())
        }
        Err(e) => Err(e),
    }
}

/// `DELETE /api/admin/products/{slug}/images/{position}`: the product without that image
/// (0 is the cover; the rest move up), whose renditions are deleted.
#[utoipa::path(
    delete,
    path = "/admin/products/{slug}/images/{position}",
    tag = "admin",
    operation_id = "adminRemoveGalleryImage",
    params(
        ("slug" = String, Path, description = "The product's slug"),
        ("position" = u32, Path, description = "The image's place in the gallery, from 0"),
    ),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The product without the image", body = AdminProduct),
        (status = 400, description = "A position that is not a whole number", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid", body = ErrorBody),
        (status = 403, description = "Signed in, but not an admin", body = ErrorBody),
        (status = 404, description = "No such product, or no image there", body = ErrorBody),
        Failures,
    )
)]
pub async fn remove_at_api(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path((slug, position)): Path<(String, String)>,
) -> Result<Json<AdminProduct>, AppError> {
    let position = position
        .parse::<usize>()
        .map_err(|_| AppError::invalid_param("position", "must be a whole number from 0"))?;
    let product = state
        .services
        .catalog
        .remove_image_at(&Actor::of(&user)?, &slug, &state.media, position)
        .await?;
    Ok(Json(product))
}

/// `POST /admin/products/{slug}/images/{position}/delete` from the edit page: back to it.
pub async fn remove_at_form(
    State(state): State<AppState>,
    RequireAdmin(user): RequireAdmin,
    Path((slug, position)): Path<(String, usize)>,
) -> Result<Response, AppError> {
    state
        .services
        .catalog
        .remove_image_at(&Actor::of(&user)?, &slug, &state.media, position)
        .await?;
    Ok(Redirect::to(&format!("/admin/products/{slug}?image=removed")).into_response())
}
