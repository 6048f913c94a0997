//! `GET /api/openapi.json`: the OpenAPI 3.1 document, derived. Every operation comes from
//! its handler's `#[utoipa::path]` and every schema from the `types` DTOs; the routers are
//! built from the same declarations (`routes!`), so the two cannot drift apart.

use crate::AppState;
use axum::Json;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bazaar",
        description = "The public HTTP API of the Bazaar shop: the catalog, accounts, the cart, checkout and orders, payment webhooks and the merchant's admin. Every error answer is `{\"error\": {\"code\", \"message\", \"fields\"?}}`.",
        license(name = "MIT"),
    ),
    modifiers(&Security),
    components(schemas(types::error::ErrorBody)),
    tags(
        (name = "catalog", description = "Categories, listings and product pages"),
        (name = "accounts", description = "Signup, sign-in, tokens and the caller's account"),
        (name = "cart", description = "The shopper's cart"),
        (name = "orders", description = "Checkout and the shopper's orders"),
        (name = "payments", description = "The payment provider's webhook"),
        (name = "admin", description = "The merchant's products, stock and orders"),
        (name = "ops", description = "Probes, metrics and this document"),
    )
)]
struct ApiDoc;

/// The two ways to be signed in: an API token, or the session cookie the login sets.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A token from `POST /api/auth/token`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "bazaar_session",
                "The session cookie `POST /api/auth/login` sets (`__Host-bazaar_session` in production)",
            ))),
        );
    }
}

/// The whole document: `/api`, the probes and `/metrics`, from their route declarations.
pub fn build() -> utoipa::openapi::OpenApi {
    let (_, doc) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api", super::routes())
        .merge(crate::ops::routes())
        .merge(crate::ops::metrics_routes())
        .split_for_parts();
    doc
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"),
    )
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    Json(DOC.get_or_init(build).clone())
}
