//! Accounts over the public API: signup, login, sessions, tokens, limits, CSRF and roles.

use crate::common::{session_cookie, spawn_sharing, spawn_with, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::PASSWORD;

async fn app(db: PgPool) -> TestApp {
    spawn_with(
        db,
        &[("OUTBOX_WORKER", "off"), ("RATE_LIMIT_WINDOW_SECS", "2")],
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn signup_answers_201_with_the_user_and_normalizes_the_email(db: PgPool) {
    let app = app(db).await;
    let res = app
        .post_json(
            "/api/users",
            json!({"email": " Ann@Example.COM ", "password": PASSWORD, "name": "Ann"}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let user: Value = res.json().await.expect("json");
    assert_eq!(
        (user["email"].as_str(), user["name"].as_str()),
        (Some("ann@example.com"), Some("Ann"))
    );
    assert!(user["id"].as_str().is_some_and(|id| id.len() == 36));
    let hash: String =
        sqlx::query_scalar!("SELECT password_hash FROM users WHERE email = 'ann@example.com'")
            .fetch_one(&app.db)
            .await
            .expect("stored");
    assert!(hash.starts_with("$argon2id$"), "argon2id, never plain text");
}

#[sqlx::test(migrations = "../migrations")]
async fn signup_refuses_a_taken_email_with_409_and_writes_nothing(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let res = app
        .post_json(
            "/api/users",
            json!({"email": "ANN@example.com", "password": PASSWORD, "name": "Other"}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "conflict");
    let (users, events) = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM users) AS "u!", (SELECT count(*) FROM outbox) AS "e!""#
    )
    .fetch_one(&app.db)
    .await
    .map(|r| (r.u, r.e))
    .expect("counts");
    assert_eq!((users, events), (1, 1), "no second user, no second event");
}

#[sqlx::test(migrations = "../migrations")]
async fn signup_with_invalid_fields_is_422_naming_each_field(db: PgPool) {
    let app = app(db).await;
    let res = app
        .post_json(
            "/api/users",
            json!({"email": "not-an-email", "password": "short", "name": ""}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let body: Value = res.json().await.expect("json");
    for field in ["email", "password", "name"] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(users, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_bodies_and_bodies_that_are_not_objects_are_400(db: PgPool) {
    let app = app(db).await;
    for (body, content_type) in [
        ("{not json", "application/json"),
        (r#"["a@b.co", "password"]"#, "application/json"),
        (r#""a@b.co""#, "application/json"),
        (
            r#"{"email":"a@b.co","password":"x","name":"y"}"#,
            "text/plain",
        ),
    ] {
        let res = app
            .client
            .post(app.url("/api/users"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status().as_u16(), 400, "{body} as {content_type}");
        let json: Value = res.json().await.expect("error body");
        assert_eq!(json["error"]["code"], "bad_request");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn login_gives_the_same_401_for_unknown_email_and_wrong_password(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let wrong = app
        .post_json(
            "/api/auth/login",
            json!({"email": "ann@example.com", "password": "wrong password!"}),
            &[],
        )
        .await;
    let unknown = app
        .post_json(
            "/api/auth/login",
            json!({"email": "bob@example.com", "password": PASSWORD}),
            &[],
        )
        .await;
    assert_eq!(
        (wrong.status().as_u16(), unknown.status().as_u16()),
        (401, 401)
    );
    let (a, b): (Value, Value) = (
        wrong.json().await.expect("json"),
        unknown.json().await.expect("json"),
    );
    assert_eq!(a, b, "the answers must not tell which part was wrong");
}

#[sqlx::test(migrations = "../migrations")]
async fn login_rotates_the_session_id_and_logout_kills_the_old_cookie(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let first = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(
        app.get_with_cookie("/api/users/me", &first)
            .await
            .status()
            .as_u16(),
        200
    );

    // Logging in again while holding a session must issue a different id.
    let res = app
        .post_json(
            "/api/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD}),
            &[("cookie", first.as_str())],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let second = session_cookie(&res).expect("new cookie");
    assert_ne!(first, second, "login must rotate the session id");
    assert_eq!(
        app.get_with_cookie("/api/users/me", &first)
            .await
            .status()
            .as_u16(),
        401,
        "the old id is dead"
    );

    let res = app
        .post_json(
            "/api/auth/logout",
            json!({}),
            &[("cookie", second.as_str())],
        )
        .await;
    assert_eq!(res.status().as_u16(), 204);
    let me = app.get_with_cookie("/api/users/me", &second).await;
    assert_eq!(
        me.status().as_u16(),
        401,
        "a logged-out cookie is worthless"
    );
}

/// Signs Ann up, logs her in, and returns the raw `Set-Cookie` of the login.
async fn login_set_cookie(app: &TestApp) -> String {
    app.signup("ann@example.com", PASSWORD).await;
    let res = app
        .post_json(
            "/api/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD}),
            &[],
        )
        .await;
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn session_cookies_are_http_only_and_same_site_lax(db: PgPool) {
    let app = app(db).await;
    let raw = login_set_cookie(&app).await;
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    assert!(!raw.contains("Secure"), "plain-HTTP development cookies");
}

#[sqlx::test(migrations = "../migrations")]
async fn failed_logins_are_limited_per_email_then_recover(db: PgPool) {
    let app = spawn_with(
        db,
        &[
            ("OUTBOX_WORKER", "off"),
            ("RATE_LIMIT_WINDOW_SECS", "6"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    app.signup("ann@example.com", PASSWORD).await;
    let attempt = |ip: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/api/auth/login",
                json!({"email": "ann@example.com", "password": password}),
                &[("x-forwarded-for", ip)],
            )
            .await
        }
    };
    // Each failure from a different address: only the per-email counter can trip.
    for i in 0..5 {
        let ip: &'static str = [
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.4",
            "198.51.100.5",
        ][i];
        assert_eq!(attempt(ip, "wrong password!").await.status().as_u16(), 401);
    }
    let limited = attempt("198.51.100.6", PASSWORD).await;
    assert_eq!(
        limited.status().as_u16(),
        429,
        "even the right password waits out the limit"
    );
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(
        (1..=6).contains(&retry),
        "Retry-After is within the window: {retry}"
    );
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another account from another address is not affected.
    app.signup("bob@example.com", PASSWORD).await;
    let bob = app
        .post_json(
            "/api/auth/login",
            json!({"email": "bob@example.com", "password": PASSWORD}),
            &[("x-forwarded-for", "203.0.113.50")],
        )
        .await;
    assert_eq!(bob.status().as_u16(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(6200)).await;
    assert_eq!(
        attempt("198.51.100.7", PASSWORD).await.status().as_u16(),
        200,
        "recovers after the window"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn failed_logins_are_limited_per_ip_and_successes_do_not_count(db: PgPool) {
    let app = spawn_with(
        db,
        &[
            ("OUTBOX_WORKER", "off"),
            ("RATE_LIMIT_WINDOW_SECS", "6"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    app.signup("ann@example.com", PASSWORD).await;
    let from = |email: String, password: &'static str, ip: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/api/auth/login",
                json!({"email": email, "password": password}),
                &[("x-forwarded-for", ip)],
            )
            .await
        }
    };
    for _ in 0..10 {
        assert_eq!(
            from("ann@example.com".into(), PASSWORD, "198.51.100.9")
                .await
                .status()
                .as_u16(),
            200
        );
    }
    for i in 0..5 {
        assert_eq!(
            from(
                format!("nobody{i}@example.com"),
                "wrong password!",
                "198.51.100.9"
            )
            .await
            .status()
            .as_u16(),
            401
        );
    }
    assert_eq!(
        from("ann@example.com".into(), PASSWORD, "198.51.100.9")
            .await
            .status()
            .as_u16(),
        429,
        "that IP is limited"
    );
    assert_eq!(
        from("ann@example.com".into(), PASSWORD, "198.51.100.10")
            .await
            .status()
            .as_u16(),
        200,
        "other IPs are not"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn two_app_instances_share_the_rate_limit(db: PgPool) {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4());
    let env = [("OUTBOX_WORKER", "off"), ("RATE_LIMIT_WINDOW_SECS", "5")];
    let a = spawn_sharing(db.clone(), &env, &prefix).await;
    let b = spawn_sharing(db, &env, &prefix).await;
    a.signup("ann@example.com", PASSWORD).await;
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        let res = app
            .post_json(
                "/api/auth/login",
                json!({"email": "ann@example.com", "password": "wrong password!"}),
                &[],
            )
            .await;
        assert_eq!(res.status().as_u16(), 401);
    }
    for app in [&a, &b] {
        let res = app
            .post_json(
                "/api/auth/login",
                json!({"email": "ann@example.com", "password": PASSWORD}),
                &[],
            )
            .await;
        assert_eq!(
            res.status().as_u16(),
            429,
            "both replicas see all five failures"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn signups_are_limited_per_ip(db: PgPool) {
    let app = app(db).await;
    for i in 0..10 {
        app.signup(&format!("user{i}@example.com"), PASSWORD).await;
    }
    let res = app
        .post_json(
            "/api/users",
            json!({"email": "one-more@example.com", "password": PASSWORD, "name": "X"}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(users, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn api_tokens_authenticate_and_bad_tokens_are_401(db: PgPool) {
    let app = app(db).await;
    let user = app.signup("ann@example.com", PASSWORD).await;
    let res = app
        .post_json(
            "/api/auth/token",
            json!({"email": "ann@example.com", "password": PASSWORD}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let token: Value = res.json().await.expect("json");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let jwt = token["access_token"].as_str().expect("token").to_owned();
    let me = |auth: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/users/me"))
                .header("authorization", auth)
                .send()
                .await
                .expect("send")
        }
    };
    let ok = me(format!("Bearer {jwt}")).await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.json::<Value>().await.expect("json")["id"], user["id"]);

    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = parts[1].to_owned();
    let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
    payload.pop();
    payload.push(flipped);
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    let alg_none = format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.{}.", parts[1]);
    let claims = |exp: u64| json!({"sub": user["id"], "iat": exp - 3600, "exp": exp, "iss": "bazaar", "aud": "bazaar-api"});
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let sign = |secret: &str, claims: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign")
    };
    let dev_secret = "dev-only-jwt-secret-change-me-in-production-000000";
    let expired = sign(dev_secret, claims(now - 120));
    let foreign = sign(
        "another-secret-that-is-long-enough-123456",
        claims(now + 600),
    );
    assert_eq!(
        me(format!("Bearer {}", sign(dev_secret, claims(now + 600))))
            .await
            .status()
            .as_u16(),
        200,
        "control: a good token"
    );
    for (what, auth) in [
        ("expired", format!("Bearer {expired}")),
        ("tampered", format!("Bearer {tampered}")),
        ("alg none", format!("Bearer {alg_none}")),
        ("wrong secret", format!("Bearer {foreign}")),
        ("garbage", "Bearer not.a.token".to_owned()),
        ("wrong scheme", format!("Basic {jwt}")),
    ] {
        let res = me(auth).await;
        assert_eq!(res.status().as_u16(), 401, "{what}");
        assert_eq!(
            res.json::<Value>().await.expect("json")["error"]["code"],
            "unauthorized",
            "{what}"
        );
    }
    let bad = app
        .post_json(
            "/api/auth/token",
            json!({"email": "ann@example.com", "password": "wrong password!"}),
            &[],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn cross_origin_posts_with_a_cookie_are_refused(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let cookie = app.login("ann@example.com", PASSWORD).await;
    let evil = app
        .post_json(
            "/api/auth/logout",
            json!({}),
            &[
                ("cookie", cookie.as_str()),
                ("origin", "https://evil.example"),
            ],
        )
        .await;
    assert_eq!(evil.status().as_u16(), 403);
    assert_eq!(
        evil.json::<Value>().await.expect("json")["error"]["code"],
        "forbidden"
    );
    assert_eq!(
        app.get_with_cookie("/api/users/me", &cookie)
            .await
            .status()
            .as_u16(),
        200,
        "still signed in"
    );
    let form = app
        .client
        .post(app.url("/rpc/accounts/logout"))
        .header("cookie", cookie.as_str())
        .header("referer", "https://evil.example/page")
        .send()
        .await
        .expect("send");
    assert_eq!(
        form.status().as_u16(),
        403,
        "server functions are covered too"
    );
    let ours = app
        .post_json(
            "/api/auth/logout",
            json!({}),
            &[("cookie", cookie.as_str()), ("origin", app.base.as_str())],
        )
        .await;
    assert_eq!(ours.status().as_u16(), 204);
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_carry_a_nonce_csp_and_frame_protection(db: PgPool) {
    let app = app(db).await;
    let res = app.get("/login").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP")
        .to_owned();
    let html = res.text().await.expect("html");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the inline hydration script carries the nonce"
    );
    let api = app.get("/api/catalog/categories").await;
    assert!(api.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .contains("default-src 'none'"));
    assert_eq!(api.headers()["x-frame-options"], "DENY");
}

/// One row of the matrix: method, path, form body, and the status for anonymous, customer, admin.
type MatrixRow = (&'static str, &'static str, Option<Value>, u16, u16, u16);

/// Who may do what. Rows are added as routes appear; deny is the default.
#[sqlx::test(migrations = "../migrations")]
async fn authorization_matrix_for_anonymous_customer_and_admin(db: PgPool) {
    let app = app(db).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    app.signup("shopper@example.com", PASSWORD).await;
    let admin = app.admin("admin@example.com").await;
    let customer = app.login("shopper@example.com", PASSWORD).await;

    // (method, path, body, anonymous, customer, admin)
    let rows: &[MatrixRow] = &[
        ("GET", "/api/catalog/categories", None, 200, 200, 200),
        ("GET", "/api/catalog/products", None, 200, 200, 200),
        ("GET", "/api/users/me", None, 401, 200, 200),
        ("GET", "/account", None, 302, 200, 200),
        (
            "POST",
            "/rpc/accounts/account",
            Some(json!({})),
            401,
            200,
            200,
        ),
        (
            "POST",
            "/rpc/accounts/profile",
            Some(json!({"name": "New Name"})),
            401,
            200,
            200,
        ),
        (
            "POST",
            "/rpc/accounts/address/delete",
            Some(json!({"id": "00000000-0000-0000-0000-000000000000"})),
            401,
            404,
            404,
        ),
        ("GET", "/dev/mailbox.json", None, 200, 200, 200),
        ("GET", "/api/cart", None, 200, 200, 200),
        ("GET", "/api/orders", None, 401, 200, 200),
        (
            "GET",
            "/api/orders/00000000-0000-0000-0000-000000000000",
            None,
            401,
            404,
            404,
        ),
        ("GET", "/orders", None, 302, 200, 200),
        (
            "GET",
            "/orders/00000000-0000-0000-0000-000000000000",
            None,
            404,
            404,
            404,
        ),
        (
            "GET",
            "/checkout/success/00000000-0000-0000-0000-000000000000",
            None,
            404,
            404,
            404,
        ),
        // The webhook is authorized by its signature alone, never by a cookie.
        ("POST", "/api/payments/webhook", None, 400, 400, 400),
        ("GET", "/dev/pay/cs_dev_unknown", None, 404, 404, 404),
        // The merchant admin: deny is the default, before any input is looked at.
        ("GET", "/api/admin/products", None, 401, 403, 200),
        ("GET", "/api/admin/collections", None, 401, 403, 200),
        ("POST", "/api/admin/products", None, 401, 403, 400),
        (
            "GET",
            "/api/admin/products/classic-mug",
            None,
            401,
            403,
            200,
        ),
        (
            "PATCH",
            "/api/admin/products/classic-mug",
            None,
            401,
            403,
            400,
        ),
        (
            "DELETE",
            "/api/admin/products/no-such-product",
            None,
            401,
            403,
            404,
        ),
        (
            "POST",
            "/api/admin/products/classic-mug/image",
            None,
            401,
            403,
            400,
        ),
        (
            "POST",
            "/api/admin/inventory/CLASSIC-MUG-STANDARD/adjust",
            None,
            401,
            403,
            400,
        ),
        ("GET", "/api/admin/orders", None, 401, 403, 200),
        (
            "POST",
            "/api/admin/orders/00000000-0000-0000-0000-000000000000/ship",
            None,
            401,
            403,
            400,
        ),
        (
            "POST",
            "/api/admin/orders/00000000-0000-0000-0000-000000000000/cancel",
            None,
            401,
            403,
            404,
        ),
        (
            "POST",
            "/api/admin/orders/00000000-0000-0000-0000-000000000000/refund",
            None,
            401,
            403,
            404,
        ),
        ("GET", "/admin", None, 302, 403, 200),
        ("GET", "/admin/products", None, 302, 403, 200),
        ("GET", "/admin/products/new", None, 302, 403, 200),
        ("GET", "/admin/products/classic-mug", None, 302, 403, 200),
        ("GET", "/admin/orders", None, 302, 403, 200),
        ("GET", "/admin/customers", None, 302, 403, 200),
        ("GET", "/admin/audit", None, 302, 403, 200),
        ("GET", "/admin/flags", None, 302, 403, 200),
        ("GET", "/admin/collections", None, 302, 403, 200),
        ("GET", "/admin/categories", None, 302, 403, 200),
        ("GET", "/admin/categories/new", None, 302, 403, 200),
        ("GET", "/admin/categories/apparel", None, 302, 403, 200),
        (
            "POST",
            "/rpc/admin/categories/delete",
            Some(json!({"slug": "no-such-category"})),
            401,
            403,
            404,
        ),
        ("GET", "/admin/collections/new", None, 302, 403, 200),
        ("GET", "/api/admin/promotions", None, 401, 403, 200),
        (
            "GET",
            "/api/admin/promotions/NO-SUCH-CODE",
            None,
            401,
            403,
            404,
        ),
        (
            "PATCH",
            "/api/admin/promotions/NO-SUCH-CODE",
            None,
            401,
            403,
            400,
        ),
        (
            "DELETE",
            "/api/admin/promotions/NO-SUCH-CODE",
            None,
            401,
            403,
            404,
        ),
        ("GET", "/admin/promotions", None, 302, 403, 200),
        ("GET", "/admin/promotions/new", None, 302, 403, 200),
        (
            "POST",
            "/rpc/admin/promotions/active",
            Some(json!({"code": "NO-SUCH-CODE", "active": "false"})),
            401,
            403,
            404,
        ),
        (
            "POST",
            "/rpc/admin/collections",
            Some(json!({})),
            401,
            403,
            200,
        ),
        (
            "POST",
            "/rpc/admin/collections/delete",
            Some(json!({"slug": "no-such-collection"})),
            401,
            403,
            404,
        ),
        (
            "POST",
            "/admin/products/classic-mug/image",
            None,
            401,
            403,
            400,
        ),
        (
            "POST",
            "/rpc/admin/dashboard",
            Some(json!({})),
            401,
            403,
            200,
        ),
        (
            "POST",
            "/rpc/admin/products",
            Some(json!({})),
            401,
            403,
            200,
        ),
        ("POST", "/rpc/admin/orders", Some(json!({})), 401, 403, 200),
        (
            "POST",
            "/rpc/admin/customers",
            Some(json!({})),
            401,
            403,
            200,
        ),
        ("POST", "/rpc/admin/audit", Some(json!({})), 401, 403, 200),
        ("POST", "/rpc/admin/flags", Some(json!({})), 401, 403, 200),
        (
            "POST",
            "/rpc/admin/flags/set",
            Some(json!({"key": "express_shipping", "enabled": "true"})),
            401,
            403,
            200,
        ),
        (
            "POST",
            "/rpc/admin/inventory/adjust",
            Some(
                json!({"slug": "classic-mug", "sku": "CLASSIC-MUG-STANDARD", "delta": "1", "reason": "count"}),
            ),
            401,
            403,
            200,
        ),
        (
            "POST",
            "/rpc/admin/orders/act",
            Some(json!({"id": "00000000-0000-0000-0000-000000000000", "action": "cancel"})),
            401,
            403,
            404,
        ),
    ];
    for (method, path, body, anon, cust, adm) in rows {
        for (who, cookie, expected) in [
            ("anonymous", None, anon),
            ("customer", Some(&customer), cust),
            ("admin", Some(&admin), adm),
        ] {
            let mut req = match *method {
                // Pages are asked for the way a browser asks.
                "GET" if !path.starts_with("/api") => {
                    app.client.get(app.url(path)).header("accept", "text/html")
                }
                "GET" => app.client.get(app.url(path)),
                "POST" => app.client.post(app.url(path)),
                other => app.client.request(
                    reqwest::Method::from_bytes(other.as_bytes()).expect("method"),
                    app.url(path),
                ),
            };
            if let Some(body) = body {
                // Server functions take form-encoded arguments.
                let form: Vec<(String, String)> = body
                    .as_object()
                    .expect("object")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                req = req.form(&form);
            }
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie.as_str());
            }
            let status = req.send().await.expect("send").status().as_u16();
            assert_eq!(status, *expected, "{who} {method} {path}");
        }
    }
}

async fn rpc(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("send")
}

#[sqlx::test(migrations = "../migrations")]
async fn saved_addresses_are_validated_private_and_removable(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    app.signup("bob@example.com", PASSWORD).await;
    let ann = app.login("ann@example.com", PASSWORD).await;
    let bob = app.login("bob@example.com", PASSWORD).await;
    let address = [
        ("address[name]", "Ann Lee"),
        ("address[line1]", "1 Main St"),
        ("address[line2]", ""),
        ("address[city]", "Springfield"),
        ("address[postal_code]", "12345"),
        ("address[country]", "us"),
    ];
    let res = rpc(&app, "/rpc/accounts/address/add", &ann, &address).await;
    assert_eq!(res.status().as_u16(), 200);
    let saved: Value = res.json().await.expect("json");
    assert_eq!(
        (saved["country"].as_str(), saved["line2"].is_null()),
        (Some("US"), true)
    );
    let id = saved["id"].as_str().expect("id").to_owned();

    let mut bad = address.to_vec();
    bad[5] = ("address[country]", "USA");
    bad[0] = ("address[name]", "  ");
    let res = rpc(&app, "/rpc/accounts/address/add", &ann, &bad).await;
    assert_eq!(res.status().as_u16(), 422);
    let err: Value = res.json().await.expect("json");
    assert!(
        err["Validation"]["fields"]["country"].is_array()
            && err["Validation"]["fields"]["name"].is_array(),
        "{err}"
    );

    // Bob can neither see nor delete Ann's address.
    let res = rpc(&app, "/rpc/accounts/address/delete", &bob, &[("id", &id)]).await;
    assert_eq!(res.status().as_u16(), 404);
    let count = || async {
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM addresses"#)
            .fetch_one(&app.db)
            .await
            .expect("count")
    };
    assert_eq!(count().await, 1);
    let res = rpc(&app, "/rpc/accounts/address/delete", &ann, &[("id", &id)]).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(count().await, 0);
    let res = rpc(
        &app,
        "/rpc/accounts/address/delete",
        &ann,
        &[("id", "not-a-uuid")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn profile_names_are_validated_and_saved(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let ann = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(
        rpc(&app, "/rpc/accounts/profile", &ann, &[("name", " ")])
            .await
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        rpc(&app, "/rpc/accounts/profile", &ann, &[("name", "Ann Lee")])
            .await
            .status()
            .as_u16(),
        200
    );
    let me: Value = app
        .get_with_cookie("/api/users/me", &ann)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["name"], "Ann Lee");
}

#[sqlx::test(migrations = "../migrations")]
async fn production_session_cookies_are_secure(db: PgPool) {
    let app = spawn_with(db, crate::common::PRODUCTION_ENV).await;
    let raw = login_set_cookie(&app).await;
    assert!(raw.contains("Secure") && raw.contains("HttpOnly"), "{raw}");
    // `__Host-`: Secure, Path=/ and no Domain, or browsers refuse it.
    assert!(raw.starts_with("__Host-bazaar_session="), "{raw}");
    assert!(raw.contains("Path=/"), "{raw}");
    assert!(!raw.to_ascii_lowercase().contains("domain="), "{raw}");
    // The session it names works.
    let cookie = raw.split(';').next().expect("name=value").to_owned();
    let me = app.get_with_cookie("/api/users/me", &cookie).await;
    assert_eq!(me.status().as_u16(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn after_signing_in_next_only_ever_leads_to_a_path_on_this_site(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    // Each as the browser would read it: tabs and newlines dropped, `\` taken for `/`.
    let cases = [
        ("/orders?page=2", "/orders?page=2"),
        ("/\t/evil.example", "/account"),
        ("/\n/evil.example", "/account"),
        ("/\r\n/evil.example", "/account"),
        ("\\/evil.example", "/account"),
        ("/\\evil.example", "/account"),
        (" //evil.example", "/account"),
        ("//evil.example", "/account"),
        ("https://evil.example", "/account"),
        ("/%2F/evil.example", "/account"),
        ("/search?q=a%2Fb", "/search?q=a%2Fb"),
        ("/ok\u{0}/x", "/account"),
        ("/caf\u{e9}", "/account"),
        ("orders", "/account"),
    ];
    for (next, want) in cases {
        let res = app
            .client
            .post(app.url("/rpc/accounts/login"))
            .header("accept", "text/html")
            .form(&[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("send");
        let status = res.status().as_u16();
        assert!((300..400).contains(&status), "{next:?}: {status}");
        assert_eq!(res.headers()["location"], want, "{next:?}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_huge_login_email_is_refused_without_becoming_a_redis_key(db: PgPool) {
    let app = app(db).await;
    let huge = format!("{}@example.com", "a".repeat(200_000));
    for path in ["/api/auth/login", "/api/auth/token"] {
        let res = app
            .post_json(
                path,
                json!({"email": huge, "password": "wrong password"}),
                &[],
            )
            .await;
        assert_eq!(res.status().as_u16(), 401, "{path}");
    }
    let mut conn = app.redis.conn().await.expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", app.redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(
        !keys.is_empty(),
        "the per-IP counter still counts the failures"
    );
    let longest = keys.iter().map(String::len).max().unwrap_or(0);
    assert!(
        longest < 200,
        "a key of {longest} bytes: {:?}",
        &keys[0][..80.min(keys[0].len())]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_forged_forwarded_for_line_before_the_proxys_own_is_not_the_client(db: PgPool) {
    let app = spawn_with(
        db,
        &[
            ("OUTBOX_WORKER", "off"),
            ("RATE_LIMIT_WINDOW_SECS", "60"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    // Every request carries the same forged first line; the proxy's line names the client.
    let attempt = |i: usize, client: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/api/auth/login",
                json!({"email": format!("nobody{i}@example.com"), "password": "wrong password!"}),
                &[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", client)],
            )
            .await
            .status()
            .as_u16()
        }
    };
    for i in 0..5 {
        assert_eq!(attempt(i, "198.51.100.20").await, 401);
    }
    assert_eq!(
        attempt(5, "198.51.100.20").await,
        429,
        "the real client is limited"
    );
    assert_eq!(
        attempt(6, "198.51.100.21").await,
        401,
        "another client behind the same forged line is not"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn thirty_concurrent_guesses_for_one_email_get_five_evaluations_at_most(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    app.signup("ann@example.com", PASSWORD).await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (client, url) = (app.client.clone(), app.url("/api/auth/token"));
        guesses.spawn(async move {
            client
                .post(url)
                .json(&json!({"email": "ann@example.com", "password": format!("guess number {i}")}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        });
    }
    let mut statuses = guesses.join_all().await;
    statuses.sort_unstable();
    let evaluated = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(
        (evaluated, refused),
        (5, 25),
        "each guess is counted before it is checked: {statuses:?}"
    );
    // The right password is refused too until the window ends, and counts nothing more.
    let res = app
        .post_json(
            "/api/auth/token",
            json!({"email": "ann@example.com", "password": PASSWORD}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 429);
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_signups_from_one_address_stop_at_the_limit(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let mut signups = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (client, url) = (app.client.clone(), app.url("/api/users"));
        signups.spawn(async move {
            client
                .post(url)
                .json(&json!({"email": format!("user{i}@example.com"), "password": PASSWORD, "name": "U"}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        });
    }
    let statuses = signups.join_all().await;
    let created = statuses.iter().filter(|&&s| s == 201).count();
    assert_eq!(
        created, 10,
        "ten signups per address and window: {statuses:?}"
    );
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(users, 10);
}

#[sqlx::test(migrations = "../migrations")]
async fn missing_and_mistyped_fields_are_422_naming_each_field(db: PgPool) {
    let app = app(db).await;
    for (body, field) in [
        (r#"{"email":"a@b.co"}"#, "password"),
        (
            r#"{"email": 5, "password": "long enough password", "name": "A"}"#,
            "email",
        ),
        (
            r#"{"email":"a@b.co","password":"long enough password","name":null}"#,
            "name",
        ),
    ] {
        let res = app
            .client
            .post(app.url("/api/users"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status().as_u16(), 422, "{body}");
        let json: Value = res.json().await.expect("error body");
        assert_eq!(json["error"]["code"], "validation", "{json}");
        assert!(json["error"]["fields"][field].is_array(), "{field}: {json}");
    }
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(users, 0, "nothing is written");
}

async fn api_token(app: &TestApp, password: &str) -> String {
    let res = app
        .post_json(
            "/api/auth/token",
            json!({"email": "ann@example.com", "password": password}),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("token");
    body["access_token"].as_str().expect("token").to_owned()
}

async fn me_with(app: &TestApp, auth: (&str, &str)) -> u16 {
    app.client
        .get(app.url("/api/users/me"))
        .header(auth.0, auth.1)
        .send()
        .await
        .expect("me")
        .status()
        .as_u16()
}

/// The reset token mailed for ann's latest request.
async fn reset_token(app: &TestApp) -> String {
    let accounts = domain::Accounts::new(
        app.db.clone(),
        domain::accounts::TokenKeys::new(&"x".repeat(40), std::time::Duration::from_secs(60)),
    );
    accounts
        .request_password_reset(&types::Email::parse("ann@example.com").expect("email"))
        .await
        .expect("request");
    sqlx::query_scalar!(
        r#"SELECT payload->>'secret' AS "t!" FROM outbox WHERE topic = 'password_reset_requested' ORDER BY id DESC LIMIT 1"#
    )
    .fetch_one(&app.db)
    .await
    .expect("token")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_change_or_reset_signs_out_every_earlier_session_and_token(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let laptop = app.login("ann@example.com", PASSWORD).await;
    let phone = app.login("ann@example.com", PASSWORD).await;
    let bearer = format!("Bearer {}", api_token(&app, PASSWORD).await);
    for auth in [
        ("cookie", laptop.as_str()),
        ("cookie", phone.as_str()),
        ("authorization", bearer.as_str()),
    ] {
        assert_eq!(me_with(&app, auth).await, 200);
    }

    // A change from the laptop: a wrong current password changes nothing.
    let change = |current: &str, new: &str| {
        app.client
            .post(app.url("/api/users/me/password"))
            .header("cookie", &laptop)
            .json(&json!({"current_password": current, "new_password": new}))
    };
    let wrong = change("not my password", "a brand new password")
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status().as_u16(), 422);
    let body: Value = wrong.json().await.expect("json");
    assert!(
        body["error"]["fields"]["current_password"].is_array(),
        "{body}"
    );
    assert_eq!(
        me_with(&app, ("cookie", &phone)).await,
        200,
        "nothing changed yet"
    );

    let changed = change(PASSWORD, "a brand new password")
        .send()
        .await
        .expect("send");
    assert_eq!(changed.status().as_u16(), 204);
    let laptop = session_cookie(&changed).expect("the laptop carries on under a new session id");
    assert_eq!(
        me_with(&app, ("cookie", &laptop)).await,
        200,
        "the changing session stays"
    );
    assert_eq!(
        me_with(&app, ("cookie", &phone)).await,
        401,
        "the phone is signed out"
    );
    assert_eq!(
        me_with(&app, ("authorization", &bearer)).await,
        401,
        "the old token is dead"
    );

    // A reset: everything from before it dies, the session that changed the password too.
    let bearer = format!("Bearer {}", api_token(&app, "a brand new password").await);
    assert_eq!(me_with(&app, ("authorization", &bearer)).await, 200);
    let token = reset_token(&app).await;
    let reset = app
        .client
        .post(app.url("/rpc/accounts/password/reset"))
        .form(&[
            ("token", token.as_str()),
            ("password", "the third password"),
        ])
        .send()
        .await
        .expect("reset");
    assert!(reset.status().as_u16() < 400, "{}", reset.status());
    assert_eq!(me_with(&app, ("cookie", &laptop)).await, 401);
    assert_eq!(me_with(&app, ("authorization", &bearer)).await, 401);
    let fresh = app.login("ann@example.com", "the third password").await;
    assert_eq!(me_with(&app, ("cookie", &fresh)).await, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hundred_concurrent_bogus_resets_cost_no_hash_and_are_throttled(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    app.signup("ann@example.com", PASSWORD).await;
    let peak_rss_mib = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib / 1024)
    };
    let before = peak_rss_mib();
    let hashes = domain::accounts::hashes_started();
    let mut resets = tokio::task::JoinSet::new();
    for i in 0..100 {
        let (client, url) = (app.client.clone(), app.url("/rpc/accounts/password/reset"));
        resets.spawn(async move {
            let token = format!("{i:064x}");
            client
                .post(url)
                .form(&[
                    ("token", token.as_str()),
                    ("password", "a perfectly good password"),
                ])
                .send()
                .await
                .expect("reset")
                .status()
                .as_u16()
        });
    }
    let statuses = resets.join_all().await;
    let refused = statuses.iter().filter(|&&s| s == 400).count();
    let throttled = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((refused, throttled), (10, 90), "{statuses:?}");
    assert_eq!(
        domain::accounts::hashes_started(),
        hashes,
        "a wrong token is turned away before Argon2 runs"
    );
    // A hundred Argon2 hashes at once would take 1.9 GiB.
    let grew = peak_rss_mib().saturating_sub(before);
    assert!(grew < 64, "peak memory grew {grew} MiB");
}
