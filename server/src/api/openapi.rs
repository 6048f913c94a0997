//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the public API.

use axum::Json;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Serves the document, built once.
pub async fn document() -> Json<Value> {
    static DOC: OnceLock<Value> = OnceLock::new();
    Json(DOC.get_or_init(build).clone())
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// The whole document: the storefront paths, then the admin's.
pub fn build() -> Value {
    let mut doc = storefront();
    if let (Some(paths), Value::Object(admin)) = (doc["paths"].as_object_mut(), admin_paths()) {
        paths.extend(admin);
    }
    doc
}

fn admin_op(
    summary: &str,
    id: &str,
    body: Option<Value>,
    ok: (&str, &str, Value),
    errors: &[(&str, &str)],
) -> Value {
    let mut responses = serde_json::Map::new();
    responses.insert(ok.0.to_owned(), json_response(ok.1, ok.2));
    responses.insert("401".to_owned(), error_response("Not signed in"));
    responses.insert("403".to_owned(), error_response("Not an admin"));
    for (code, what) in errors {
        responses.insert((*code).to_owned(), error_response(what));
    }
    let mut op = json!({
        "summary": summary, "operationId": id, "tags": ["admin"],
        "security": [{"bearer": []}, {"session": []}], "responses": responses,
    });
    if let Some(schema) = body {
        op["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
    }
    op
}

fn admin_paths() -> Value {
    let product = json!({"type": "object", "required": ["slug","name","description","category","active","variants"]});
    let product_in = json!({"type": "object", "required": ["name","category","variants"], "properties": {
        "name": {"type":"string"}, "slug": {"type":"string"}, "description": {"type":"string"},
        "category": {"type":"string"}, "active": {"type":"boolean"},
        "variants": {"type":"array", "items": {"type":"object", "required": ["sku","name","price"], "properties": {
            "sku": {"type":"string"}, "name": {"type":"string"},
            "price": {"$ref":"#/components/schemas/Money", "description": "At most 100000000 minor units"},
            "stock": {"type":"integer", "minimum": 0, "description": "Required for a new variant. On an existing one it is a compare-and-set against `stock_was` (409 on a mismatch); left out, or equal to the stock on hand, it leaves the stock alone."},
            "stock_was": {"type":"integer", "minimum": 0, "description": "The stock the editor read"}}}}}});
    let order = json!({"$ref": "#/components/schemas/Order"});
    let slug =
        json!([{ "name": "slug", "in": "path", "required": true, "schema": {"type":"string"} }]);
    let id = json!([{ "name": "id", "in": "path", "required": true, "schema": {"type":"string","format":"uuid"} }]);
    let action = |summary: &str, op: &str, body: Option<Value>| {
        let mut o = admin_op(
            summary,
            op,
            body,
            ("200", "The order", order.clone()),
            &[
                ("404", "No such order"),
                ("409", "Not allowed from the current status"),
            ],
        );
        o["parameters"] = id.clone();
        json!({ "post": o })
    };
    // A refund the provider has not confirmed within a few seconds completes by itself.
    let refund_action = |summary: &str, op: &str| {
        let mut a = action(summary, op, None);
        a["post"]["responses"]["202"] = json_response(
            "The refund is recorded and completes by itself; the order moves on then",
            order.clone(),
        );
        a
    };
    let mut get_product = admin_op(
        "One product, archived or not",
        "adminGetProduct",
        None,
        ("200", "The product", product.clone()),
        &[("404", "No such product")],
    );
    get_product["parameters"] = slug.clone();
    let mut patch_product = admin_op(
        "Edit any subset of a product's fields",
        "adminUpdateProduct",
        Some(json!({"type":"object"})),
        ("200", "The product", product.clone()),
        &[
            ("404", "No such product"),
            ("409", "Duplicate slug or SKU, or a stock that changed since `stock_was`; nothing is saved"),
            ("422", "Invalid fields"),
        ],
    );
    patch_product["parameters"] = slug.clone();
    let mut archive = admin_op(
        "Archive a product",
        "adminArchiveProduct",
        None,
        ("204", "Archived", json!({})),
        &[("404", "No such product")],
    );
    archive["parameters"] = slug.clone();
    let mut image = admin_op(
        "Upload the product image (multipart field `image`, 5 MiB)",
        "adminUploadImage",
        None,
        ("200", "The product", product.clone()),
        &[
            ("404", "No such product"),
            ("413", "Over 5 MiB"),
            ("422", "Not an image"),
        ],
    );
    image["parameters"] = slug;
    image["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": {"type":"object","properties": {"image": {"type":"string","format":"binary"}}}}}});
    let mut adjust = admin_op(
        "Adjust a SKU's stock",
        "adminAdjustStock",
        Some(
            json!({"type":"object","required":["delta","reason"],"properties":{"delta":{"type":"integer"},"reason":{"type":"string"}}}),
        ),
        (
            "200",
            "The new stock",
            json!({"type":"object","properties":{"sku":{"type":"string"},"stock":{"type":"integer"}}}),
        ),
        &[
            ("404", "No such SKU"),
            ("409", "Stock would go below 0"),
            ("422", "Invalid fields"),
        ],
    );
    adjust["parameters"] =
        json!([{ "name": "sku", "in": "path", "required": true, "schema": {"type":"string"} }]);
    let mut list_orders = admin_op(
        "Orders, newest first",
        "adminListOrders",
        None,
        (
            "200",
            "Orders",
            json!({"type":"array","items":{"type":"object"}}),
        ),
        &[("400", "Bad filter")],
    );
    list_orders["parameters"] = json!([
        query_param("status", "Order status", json!({"type":"string"})),
        query_param(
            "from",
            "First day, YYYY-MM-DD",
            json!({"type":"string","format":"date"})
        ),
        query_param(
            "to",
            "Last day, YYYY-MM-DD",
            json!({"type":"string","format":"date"})
        )
    ]);
    json!({
        "/api/admin/products": {
            "get": admin_op("Products, archived ones too", "adminListProducts", None, ("200", "Products", json!({"type":"array","items": product})), &[]),
            "post": admin_op("Create a product", "adminCreateProduct", Some(product_in), ("201", "The product", product.clone()), &[("409", "Duplicate slug or SKU"), ("422", "Invalid fields")]),
        },
        "/api/admin/products/{slug}": { "get": get_product, "patch": patch_product, "delete": archive },
        "/api/admin/products/{slug}/image": { "post": image },
        "/api/admin/inventory/{sku}/adjust": { "post": adjust },
        "/api/admin/orders": { "get": list_orders },
        "/api/admin/orders/{id}/ship": action("Ship with a tracking number", "adminShipOrder", Some(json!({"type":"object","required":["tracking_number"],"properties":{"tracking_number":{"type":"string"}}}))),
        "/api/admin/orders/{id}/deliver": action("Mark delivered", "adminDeliverOrder", None),
        "/api/admin/orders/{id}/cancel": refund_action("Cancel (restocks; refunds if paid)", "adminCancelOrder"),
        "/api/admin/orders/{id}/refund": refund_action("Refund in full through the payment provider", "adminRefundOrder"),
    })
}

fn storefront() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Bazaar public API",
            "version": "1.0.0",
            "description": "The stable HTTP contract for mobile clients, integrations, operators and QA. Every error has the shape {\"error\":{\"code\",\"message\",\"fields\"?}}."
        },
        "paths": {
            "/health": { "get": {
                "summary": "Liveness", "operationId": "health", "tags": ["operations"],
                "responses": { "200": json_response("The process is alive", json!({"type":"object"})) }
            }},
            "/ready": { "get": {
                "summary": "Readiness of Postgres and Redis", "operationId": "ready", "tags": ["operations"],
                "responses": {
                    "200": json_response("Both dependencies reachable", json!({"$ref":"#/components/schemas/Readiness"})),
                    "503": json_response("A dependency is unreachable; it reads \"error\"", json!({"$ref":"#/components/schemas/Readiness"}))
                }
            }},
            "/ready/pod": { "get": {
                "summary": "Readiness of this replica (the Kubernetes probe; shared dependencies left out)", "operationId": "podReady", "tags": ["operations"],
                "responses": {
                    "200": json_response("Taking traffic", json!({"type":"object"})),
                    "503": json_response("Draining after SIGTERM", json!({"type":"object"}))
                }
            }},
            "/api/catalog/categories": { "get": {
                "summary": "List categories", "operationId": "listCategories", "tags": ["catalog"],
                "responses": { "200": json_response("All categories", json!({"type":"array","items":{"$ref":"#/components/schemas/Category"}})) }
            }},
            "/api/catalog/products": { "get": {
                "summary": "List, filter, sort and search products", "operationId": "listProducts", "tags": ["catalog"],
                "parameters": [
                    query_param("q", "Free text; full-text search with typo tolerance", json!({"type":"string","maxLength":200})),
                    query_param("category", "A category slug", json!({"type":"string"})),
                    query_param("sort", "Defaults to relevance with q, newest without", json!({"type":"string","enum":["relevance","newest","price_asc","price_desc","name"]})),
                    query_param("page", "1 or more", json!({"type":"integer","minimum":1,"maximum":10000,"default":1})),
                    query_param("per_page", "Page size", json!({"type":"integer","minimum":1,"maximum":100,"default":24}))
                ],
                "responses": {
                    "200": json_response("One page of products", json!({"$ref":"#/components/schemas/ProductPage"})),
                    "400": error_response("A bad parameter (code `validation`, with `fields`)")
                }
            }},
            "/api/catalog/products/{slug}": { "get": {
                "summary": "One product with its variants", "operationId": "getProduct", "tags": ["catalog"],
                "parameters": [{ "name": "slug", "in": "path", "required": true, "schema": {"type":"string"} }],
                "responses": {
                    "200": json_response("The product", json!({"$ref":"#/components/schemas/ProductDetail"})),
                    "404": error_response("Unknown or archived product")
                }
            }},
            "/api/users": { "post": {
                "summary": "Sign up", "operationId": "signup", "tags": ["accounts"],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {"$ref":"#/components/schemas/Signup"} } } },
                "responses": {
                    "201": json_response("The new user", json!({"$ref":"#/components/schemas/User"})),
                    "400": error_response("Malformed JSON"),
                    "409": error_response("The email is taken"),
                    "422": error_response("Invalid fields (password under 10 characters, bad email)"),
                    "429": error_response("Too many signups from this address")
                }
            }},
            "/api/users/me": { "get": {
                "summary": "The signed-in user", "operationId": "me", "tags": ["accounts"],
                "security": [{"bearer": []}, {"session": []}],
                "responses": {
                    "200": json_response("The user", json!({"$ref":"#/components/schemas/User"})),
                    "401": error_response("Not signed in, or a bad token")
                }
            }},
            "/api/users/me/password": { "post": {
                "summary": "Change the password; every other session and token is signed out", "operationId": "changePassword", "tags": ["accounts"],
                "security": [{"bearer": []}, {"session": []}],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["current_password", "new_password"],
                    "properties": { "current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10, "maxLength": 256} }
                } } } },
                "responses": {
                    "204": { "description": "Changed; this session carries on, the others are signed out" },
                    "400": error_response("Malformed JSON"),
                    "401": error_response("Not signed in, or a bad token"),
                    "422": error_response("A wrong current password, or a new one that breaks the rules"),
                    "429": error_response("Too many wrong current passwords; see Retry-After")
                }
            }},
            "/api/auth/login": { "post": {
                "summary": "Sign in with a session cookie (new session id)", "operationId": "login", "tags": ["accounts"],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {"$ref":"#/components/schemas/Credentials"} } } },
                "responses": {
                    "200": json_response("The user; Set-Cookie carries the session", json!({"$ref":"#/components/schemas/User"})),
                    "401": error_response("Wrong credentials (the same for an unknown email)"),
                    "429": error_response("Too many failed attempts for this email or IP; see Retry-After")
                }
            }},
            "/api/auth/logout": { "post": {
                "summary": "Sign out; the session is deleted", "operationId": "logout", "tags": ["accounts"],
                "responses": { "204": { "description": "Signed out" } }
            }},
            "/api/auth/token": { "post": {
                "summary": "Issue a Bearer token for API clients", "operationId": "token", "tags": ["accounts"],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {"$ref":"#/components/schemas/Credentials"} } } },
                "responses": {
                    "200": json_response("A signed JWT", json!({"$ref":"#/components/schemas/Token"})),
                    "401": error_response("Wrong credentials"),
                    "429": error_response("Too many failed attempts; see Retry-After")
                }
            }},
            "/api/cart": { "get": {
                "summary": "The caller's cart (guest session or user), priced now", "operationId": "getCart", "tags": ["cart"],
                "responses": {
                    "200": json_response("The cart", json!({"$ref":"#/components/schemas/Cart"})),
                    "503": error_response("The cart store is briefly unavailable; try again")
                }
            }},
            "/api/cart/items": { "post": {
                "summary": "Add to the cart (a guest gets a session cookie)", "operationId": "addToCart", "tags": ["cart"],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["sku","quantity"],
                    "properties": { "sku": {"type":"string"}, "quantity": {"type":"integer","minimum":1,"maximum":99} } } } } },
                "responses": {
                    "200": json_response("The cart", json!({"$ref":"#/components/schemas/Cart"})),
                    "404": error_response("Unknown SKU"),
                    "409": error_response("More than is available"),
                    "422": error_response("Quantity outside 1..=99 (also for the line's total)"),
                    "503": error_response("The cart store is briefly unavailable; try again")
                }
            }},
            "/api/cart/items/{sku}": {
                "patch": {
                    "summary": "Set a line's quantity; 0 removes it", "operationId": "setCartLine", "tags": ["cart"],
                    "parameters": [{ "name": "sku", "in": "path", "required": true, "schema": {"type":"string"} }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["quantity"], "properties": { "quantity": {"type":"integer","minimum":0,"maximum":99} } } } } },
                    "responses": {
                        "200": json_response("The cart", json!({"$ref":"#/components/schemas/Cart"})),
                        "404": error_response("Unknown SKU"), "409": error_response("More than is available"),
                        "422": error_response("Quantity outside 0..=99")
                    }
                },
                "delete": {
                    "summary": "Remove a line", "operationId": "removeCartLine", "tags": ["cart"],
                    "parameters": [{ "name": "sku", "in": "path", "required": true, "schema": {"type":"string"} }],
                    "responses": { "200": json_response("The cart", json!({"$ref":"#/components/schemas/Cart"})) }
                }
            },
            "/api/checkout": { "post": {
                "summary": "Place an order from the cart", "operationId": "checkout", "tags": ["orders"],
                "parameters": [{ "name": "Idempotency-Key", "in": "header", "required": true,
                                 "schema": {"type":"string","minLength":1,"maxLength":255},
                                 "description": "The same key answers with the same order" }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {"$ref":"#/components/schemas/Checkout"} } } },
                "responses": {
                    "201": json_response("The order, awaiting payment", json!({"$ref":"#/components/schemas/CheckoutResult"})),
                    "400": error_response("Empty cart, missing or bad Idempotency-Key, malformed JSON"),
                    "409": error_response("A line is short of stock; nothing was reserved"),
                    "422": error_response("Invalid fields")
                }
            }},
            "/api/orders": { "get": {
                "summary": "The caller's orders", "operationId": "listOrders", "tags": ["orders"],
                "security": [{"bearer": []}, {"session": []}],
                "responses": {
                    "200": json_response("Newest first", json!({"type":"array","items":{"$ref":"#/components/schemas/Order"}})),
                    "401": error_response("Not signed in")
                }
            }},
            "/api/orders/{id}": { "get": {
                "summary": "One of the caller's orders", "operationId": "getOrder", "tags": ["orders"],
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": {"type":"string","format":"uuid"} }],
                "responses": {
                    "200": json_response("The order", json!({"$ref":"#/components/schemas/Order"})),
                    "401": error_response("Not signed in"),
                    "404": error_response("No such order, or someone else's")
                }
            }},
            "/api/payments/webhook": { "post": {
                "summary": "Stripe-format payment events, verified with the Stripe-Signature header",
                "operationId": "paymentWebhook", "tags": ["payments"],
                "parameters": [{ "name": "Stripe-Signature", "in": "header", "required": true, "schema": {"type":"string"},
                                 "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">; 300 s tolerance" }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["id", "type", "data"],
                    "properties": { "id": {"type":"string"}, "type": {"type":"string"}, "data": {"type":"object"} } } } } },
                "responses": {
                    "200": json_response("Processed, or a duplicate that changed nothing", json!({
                        "type": "object", "properties": { "received": {"type":"boolean"}, "outcome": {"type":"string"}, "duplicate": {"type":"boolean"} } })),
                    "400": error_response("Bad or stale signature, or not an event")
                }
            }},
            "/api/openapi.json": { "get": {
                "summary": "This document", "operationId": "openapi", "tags": ["operations"],
                "responses": { "200": json_response("OpenAPI 3.1", json!({"type":"object"})) }
            }}
        },
        "components": {
        "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
            "session": { "type": "apiKey", "in": "cookie", "name": "bazaar_session", "description": "Set by login. Production names it `__Host-bazaar_session`." }
        },
        "schemas": {
            "CartLine": { "type": "object", "required": ["sku","name","quantity","unit_price","line_total"], "properties": {
                "sku": {"type":"string"}, "name": {"type":"string"}, "quantity": {"type":"integer"},
                "unit_price": {"$ref":"#/components/schemas/Money"}, "line_total": {"$ref":"#/components/schemas/Money"},
                "available": {"type":"integer"}
            }},
            "Cart": { "type": "object", "required": ["items","subtotal","item_count"], "properties": {
                "items": {"type":"array","items":{"$ref":"#/components/schemas/CartLine"}},
                "subtotal": {"$ref":"#/components/schemas/Money"}, "item_count": {"type":"integer"}
            }},
            "Address": { "type": "object", "required": ["name","line1","city","postal_code","country"], "properties": {
                "name": {"type":"string"}, "line1": {"type":"string"}, "line2": {"type":["string","null"]},
                "city": {"type":"string"}, "postal_code": {"type":"string"}, "country": {"type":"string","pattern":"^[A-Za-z]{2}$"}
            }},
            "Checkout": { "type": "object", "required": ["shipping_address","shipping_method"], "properties": {
                "email": {"type":"string","description":"Required for guests"},
                "shipping_address": {"$ref":"#/components/schemas/Address"},
                "shipping_method": {"type":"string","enum":["standard","express"]}
            }},
            "CheckoutResult": { "type": "object", "required": ["order_id","status","total","payment_url"], "properties": {
                "order_id": {"type":"string","format":"uuid"}, "status": {"type":"string","enum":["pending_payment"]},
                "total": {"$ref":"#/components/schemas/Money"}, "payment_url": {"type":"string"}
            }},
            "Order": { "type": "object", "required": ["id","status","lines","subtotal","shipping","tax","total","created_at"], "properties": {
                "id": {"type":"string","format":"uuid"},
                "status": {"type":"string","enum":["pending_payment","paid","shipped","delivered","cancelled","refunded"]},
                "lines": {"type":"array","items":{"type":"object","required":["sku","name","quantity","unit_price"],"properties":{
                    "sku":{"type":"string"},"name":{"type":"string"},"quantity":{"type":"integer"},"unit_price":{"$ref":"#/components/schemas/Money"}}}},
                "subtotal": {"$ref":"#/components/schemas/Money"}, "shipping": {"$ref":"#/components/schemas/Money"},
                "tax": {"$ref":"#/components/schemas/Money"}, "total": {"$ref":"#/components/schemas/Money"},
                "created_at": {"type":"string","format":"date-time"}
            }},
            "User": { "type": "object", "required": ["id","email","name"], "properties": {
                "id": {"type":"string","format":"uuid"}, "email": {"type":"string","format":"email"},
                "name": {"type":"string"}, "role": {"type":"string","enum":["customer","admin"]}
            }},
            "Signup": { "type": "object", "required": ["email","password","name"], "properties": {
                "email": {"type":"string","format":"email"}, "password": {"type":"string","minLength":10,"maxLength":256},
                "name": {"type":"string","minLength":1,"maxLength":100}
            }},
            "Credentials": { "type": "object", "required": ["email","password"], "properties": {
                "email": {"type":"string"}, "password": {"type":"string"}
            }},
            "Token": { "type": "object", "required": ["access_token","token_type","expires_in"], "properties": {
                "access_token": {"type":"string"}, "token_type": {"type":"string","enum":["Bearer"]},
                "expires_in": {"type":"integer","description":"Seconds"}
            }},
            "Money": { "type": "object", "required": ["amount","currency"], "properties": {
                "amount": {"type":"integer","format":"int64","description":"Integer minor units, e.g. cents"},
                "currency": {"type":"string","pattern":"^[A-Z]{3}$"}
            }},
            "Category": { "type": "object", "required": ["slug","name","product_count"], "properties": {
                "slug": {"type":"string"}, "name": {"type":"string"}, "product_count": {"type":"integer"}
            }},
            "ProductSummary": { "type": "object", "required": ["slug","name","price","image_url","in_stock","category"], "properties": {
                "slug": {"type":"string"}, "name": {"type":"string"},
                "price": {"$ref":"#/components/schemas/Money"},
                "image_url": {"type":["string","null"]}, "in_stock": {"type":"boolean"},
                "category": {"type":"string","description":"Category slug"}
            }},
            "Variant": { "type": "object", "required": ["sku","name","price","available"], "properties": {
                "sku": {"type":"string"}, "name": {"type":"string"},
                "price": {"$ref":"#/components/schemas/Money"}, "available": {"type":"integer"}
            }},
            "ProductDetail": { "allOf": [
                {"$ref":"#/components/schemas/ProductSummary"},
                { "type": "object", "required": ["description","variants"], "properties": {
                    "description": {"type":"string"},
                    "variants": {"type":"array","items":{"$ref":"#/components/schemas/Variant"}}
                }}
            ]},
            "ProductPage": { "type": "object", "required": ["items","page","per_page","total"], "properties": {
                "items": {"type":"array","items":{"$ref":"#/components/schemas/ProductSummary"}},
                "page": {"type":"integer"}, "per_page": {"type":"integer"}, "total": {"type":"integer"}
            }},
            "Readiness": { "type": "object", "required": ["postgres","redis"], "properties": {
                "postgres": {"type":"string","enum":["ok","error"]}, "redis": {"type":"string","enum":["ok","error"]},
                "error": {"type":"object"}
            }},
            "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                "type": "object", "required": ["code","message"], "properties": {
                    "code": {"type":"string","enum":["not_found","validation","unauthorized","forbidden","conflict","rate_limited","bad_request","internal"]},
                    "message": {"type":"string"},
                    "fields": {"type":"object","additionalProperties":{"type":"array","items":{"type":"string"}}}
                }
            }}}
        }}
    })
}
