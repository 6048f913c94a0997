//! The public JSON API of `contract.md`, under `/api`. The storefront's own server
//! functions live under `/rpc`, so the two never collide.

mod accounts;
mod admin;
pub mod cart;
mod catalog;
pub mod openapi;
mod payments;
mod promotions;
mod taxonomy;

use crate::AppState;
use axum::{
    body::Body,
    extract::{FromRequestParts, Query},
    http::{header, request::Parts, Request, Response},
    middleware::Next,
    response::IntoResponse,
    Router,
};
use serde::de::DeserializeOwned;
use types::AppError;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The failures any operation can answer, with the error body: listed once and named in
/// every operation's responses.
#[derive(utoipa::IntoResponses)]
pub enum Failures {
    /// 500.
    #[response(status = 500, description = "Something broke on our side")]
    Internal(types::error::ErrorBody),
    /// 503.
    #[response(
        status = 503,
        description = "A dependency is briefly unavailable; retry"
    )]
    Unavailable(types::error::ErrorBody),
}

/// The `/api` routes, each declared once with its document: a route cannot exist without
/// its OpenAPI operation, and the document cannot list a route that does not exist.
pub fn routes() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(crate::media::upload_api, crate::media::remove_api))
        .routes(routes!(crate::media::add_api))
        .routes(routes!(crate::media::remove_at_api))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::media::UPLOAD_BODY_LIMIT,
        ));
    OpenApiRouter::new()
        .routes(routes!(catalog::categories))
        .routes(routes!(catalog::products))
        .routes(routes!(catalog::product))
        .routes(routes!(catalog::collections))
        .routes(routes!(catalog::collection))
        .routes(routes!(openapi::document))
        .routes(routes!(accounts::signup))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::token))
        .routes(routes!(cart::get))
        .routes(routes!(cart::add))
        .routes(routes!(cart::set, cart::remove))
        .routes(routes!(cart::apply_discount, cart::remove_discount))
        .routes(routes!(cart::checkout))
        .routes(routes!(cart::orders))
        .routes(routes!(cart::order))
        .routes(routes!(payments::webhook))
        .routes(routes!(admin::products, admin::create_product))
        .routes(routes!(
            admin::product,
            admin::update_product,
            admin::archive_product
        ))
        .merge(upload)
        .routes(routes!(admin::adjust))
        .routes(routes!(taxonomy::create_category))
        .routes(routes!(
            taxonomy::update_category,
            taxonomy::delete_category
        ))
        .routes(routes!(taxonomy::collections, taxonomy::create_collection))
        .routes(routes!(
            taxonomy::collection,
            taxonomy::update_collection,
            taxonomy::delete_collection
        ))
        .routes(routes!(promotions::list, promotions::create))
        .routes(routes!(
            promotions::get,
            promotions::update,
            promotions::deactivate
        ))
        .routes(routes!(admin::orders))
        .routes(routes!(admin::ship))
        .routes(routes!(admin::deliver))
        .routes(routes!(admin::cancel))
        .routes(routes!(admin::refund))
}

/// The `/api` router.
pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router.fallback(|| async { AppError::NotFound("no such API endpoint".to_owned()) })
}

/// Middleware for the whole app: API answers get the contract's error shape even when an
/// outer layer (body limit, timeout) produced them.
pub async fn contract_errors_layer(req: Request<Body>, next: Next) -> Response<Body> {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if is_api {
        contract_errors(res).await
    } else {
        res
    }
}

/// Query parameters whose malformed input is a contract-shaped 400, not axum's text.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| AppError::BadRequest(e.body_text()))
    }
}

/// A JSON body whose malformed, mistyped or oversized input is a contract-shaped 400/413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            // Well-formed JSON whose fields do not fit: a field error (422) naming the field.
            Err(axum::extract::rejection::JsonRejection::JsonDataError(e)) => {
                Err(field_error(&e.body_text()))
            }
            Err(rejection) => {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return Err(AppError::BadRequest(
                        "The request body is too large.".to_owned(),
                    ));
                }
                Err(AppError::BadRequest(format!(
                    "Invalid JSON body: {}",
                    rejection.body_text()
                )))
            }
        }
    }
}

/// Turns serde's account of a body that does not fit its type into the contract's field
/// errors: `shipping_address: missing field `city`` becomes 422 with
/// `fields["shipping_address.city"]`. A body that is not an object at all (no field to
/// name) stays a 400.
fn field_error(text: &str) -> AppError {
    let detail = text.split_once("target type: ").map_or(text, |(_, d)| d);
    // serde_json appends the position, which helps no caller.
    let detail = detail.rsplit_once(" at line ").map_or(detail, |(d, _)| d);
    let (path, problem) = match detail.split_once(": ") {
        Some((path, problem)) if !path.contains(' ') => (path, problem),
        _ => (".", detail),
    };
    let path = if path == "." { "" } else { path };
    let missing = problem
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    let (field, message) = match missing {
        Some(name) if path.is_empty() => (name.to_owned(), "is required".to_owned()),
        Some(name) => (format!("{path}.{name}"), "is required".to_owned()),
        None if path.is_empty() => {
            return AppError::BadRequest(format!("Invalid JSON body: {problem}"));
        }
        None => (path.to_owned(), problem.to_owned()),
    };
    let mut fields = types::FieldErrors::new();
    fields.insert(field.clone(), vec![message.clone()]);
    AppError::Validation {
        message: format!("{field} {message}"),
        fields,
    }
}

/// Gives every error answer under `/api` the contract's JSON shape, including the ones
/// produced by layers (body limit, timeout, method not allowed).
async fn contract_errors(res: Response<Body>) -> Response<Body> {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let message = status.canonical_reason().unwrap_or("error").to_owned();
    let err = match status.as_u16() {
        404 => AppError::NotFound(message),
        401 => AppError::Unauthorized(message),
        403 => AppError::Forbidden(message),
        409 => AppError::Conflict(message),
        503 => AppError::Unavailable(message),
        500.. => AppError::Internal(types::error::INTERNAL_MESSAGE.to_owned()),
        _ => AppError::BadRequest(message),
    };
    let mut out = (status, axum::Json(err.to_body())).into_response();
    // The body is new, so nothing that described the old one carries over: a gzipped
    // plain-text answer must not label the fresh JSON as gzip.
    for (name, value) in res.headers() {
        if ![
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
        ]
        .contains(name)
        {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field_error;
    use types::AppError;

    fn fields(e: &AppError) -> Vec<(String, Vec<String>)> {
        e.fields()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect()
    }

    #[test]
    fn a_missing_nested_field_is_named_by_its_path() {
        let e = field_error("Failed to deserialize the JSON body into the target type: shipping_address: missing field `city` at line 1 column 80");
        assert_eq!(e.status(), 422);
        assert_eq!(
            fields(&e),
            [(
                "shipping_address.city".to_owned(),
                vec!["is required".to_owned()]
            )]
        );
    }

    #[test]
    fn a_missing_top_level_field_and_a_mistyped_one_are_field_errors() {
        let e = field_error("Failed to deserialize the JSON body into the target type: missing field `password` at line 1 column 20");
        assert_eq!(fields(&e)[0].0, "password");
        let e = field_error("Failed to deserialize the JSON body into the target type: items[0].quantity: invalid type: string \"2\", expected i64 at line 1 column 30");
        assert_eq!(e.status(), 422);
        assert_eq!(
            fields(&e)[0],
            (
                "items[0].quantity".to_owned(),
                vec!["invalid type: string \"2\", expected i64".to_owned()]
            )
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_stays_a_bad_request() {
        let e = field_error("Failed to deserialize the JSON body into the target type: invalid type: sequence, expected struct Credentials at line 1 column 0");
        assert_eq!(e.status(), 400);
    }
}
