//! The event backbone and email: outbox delivery, crashes, duplicates, password reset,
//! the dev mailbox and the admin bootstrap command.

use crate::common::{spawn_with, TestApp};
use domain::mail::Mailer;
use domain::notifications::Dispatcher;
use domain::outbox::OutboxWorker;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

use crate::common::PASSWORD;

async fn app(db: PgPool) -> TestApp {
    spawn_with(db, &[("OUTBOX_WORKER", "off")]).await
}

fn worker(app: &TestApp, lease: Duration) -> OutboxWorker<Dispatcher> {
    let mailer = Mailer::new(app.db.clone(), None, "test@bazaar.local").expect("mailer");
    let mut w = OutboxWorker::new(
        app.db.clone(),
        Dispatcher {
            db: app.db.clone(),
            mailer,
            public_url: app.base.clone(),
        },
    );
    w.lease = lease;
    w
}

async fn outbox_status(db: &PgPool) -> Vec<(String, String)> {
    sqlx::query!("SELECT topic, status FROM outbox ORDER BY id")
        .fetch_all(db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| (r.topic, r.status))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn signup_writes_user_created_in_the_same_transaction_and_the_worker_sends_a_welcome(
    db: PgPool,
) {
    let app = app(db).await;
    let user = app.signup("ann@example.com", PASSWORD).await;
    assert_eq!(
        outbox_status(&app.db).await,
        vec![("user_created".to_owned(), "pending".to_owned())]
    );
    assert!(
        app.mailbox("ann@example.com").await.is_empty(),
        "nothing is sent before the worker runs"
    );
    app.drain_outbox().await;
    assert_eq!(
        outbox_status(&app.db).await,
        vec![("user_created".to_owned(), "done".to_owned())]
    );
    let mail = app.mailbox("ann@example.com").await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "Welcome to Bazaar");
    assert!(mail[0]["body"]
        .as_str()
        .expect("body")
        .contains("Test Shopper"));
    let payload: Value = sqlx::query_scalar!("SELECT payload FROM outbox")
        .fetch_one(&app.db)
        .await
        .expect("payload");
    assert_eq!(payload["user_id"], user["id"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_event_committed_while_no_worker_runs_is_delivered_later(db: PgPool) {
    // The "crash between commit and delivery": the business change committed with its
    // event, and the process died before any worker touched it.
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    drop(app.client.clone());
    let restarted = worker(&app, Duration::from_secs(60));
    assert_eq!(restarted.run_once().await.expect("pass"), 1);
    assert_eq!(app.mailbox("ann@example.com").await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_worker_that_dies_mid_event_loses_its_lease_and_another_delivers_once(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let doomed = worker(&app, Duration::from_millis(800));
    let claimed = doomed.claim().await.expect("claim");
    assert_eq!(claimed.len(), 1);
    drop(doomed); // dies without completing

    let other = worker(&app, Duration::from_secs(60));
    assert_eq!(
        other.run_once().await.expect("pass"),
        0,
        "the lease still holds"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        other.run_once().await.expect("pass"),
        1,
        "the expired lease is taken over"
    );
    assert_eq!(app.mailbox("ann@example.com").await.len(), 1);
    let attempts: i32 = sqlx::query_scalar!("SELECT attempts FROM outbox")
        .fetch_one(&app.db)
        .await
        .expect("attempts");
    assert_eq!(attempts, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_worker_stopping_hands_back_its_claim_and_another_takes_it_at_once(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let stopping = worker(&app, Duration::from_secs(600));
    let claimed = stopping.claim().await.expect("claim");
    assert_eq!(claimed.len(), 1);
    stopping.release(&claimed).await.expect("hand back");

    let other = worker(&app, Duration::from_secs(60));
    assert_eq!(
        other.run_once().await.expect("pass"),
        1,
        "taken without waiting out the ten-minute lease"
    );
    assert_eq!(app.mailbox("ann@example.com").await.len(), 1);
    let attempts: i32 = sqlx::query_scalar!("SELECT attempts FROM outbox")
        .fetch_one(&app.db)
        .await
        .expect("attempts");
    assert_eq!(
        attempts, 1,
        "the handed-back claim does not count as an attempt"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn delivering_the_same_event_twice_sends_one_email(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    app.drain_outbox().await;
    // At-least-once: pretend the acknowledgement was lost and the event comes round again.
    sqlx::query!("UPDATE outbox SET status = 'pending', available_at = now()")
        .execute(&app.db)
        .await
        .expect("replay");
    let w = worker(&app, Duration::from_secs(60));
    let (a, b) = tokio::join!(w.run_once(), w.run_once());
    assert_eq!(
        a.expect("pass") + b.expect("pass"),
        1,
        "SKIP LOCKED: one worker takes it"
    );
    app.drain_outbox().await;
    assert_eq!(
        app.mailbox("ann@example.com").await.len(),
        1,
        "idempotent handler"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_workers_share_a_backlog_without_doubles(db: PgPool) {
    let app = app(db).await;
    // Through the domain: the HTTP signup limit would (rightly) stop thirty from one IP.
    let accounts = domain::Accounts::new(
        app.db.clone(),
        domain::accounts::TokenKeys::new(&"x".repeat(40), Duration::from_secs(60)),
    );
    for i in 0..30 {
        let new = types::SignupRequest {
            email: format!("user{i}@example.com"),
            password: PASSWORD.into(),
            name: "User".into(),
        };
        accounts
            .signup(&new.parse().expect("valid"))
            .await
            .expect("signup");
    }
    let workers: Vec<_> = (0..4)
        .map(|_| worker(&app, Duration::from_secs(60)))
        .collect();
    let mut handles = Vec::new();
    for w in workers {
        handles.push(tokio::spawn(async move {
            let mut n = 0;
            loop {
                let done = w.run_once().await.expect("pass");
                if done == 0 {
                    break n;
                }
                n += done;
            }
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.expect("join");
    }
    assert_eq!(total, 30, "each event handled exactly once across workers");
    let sent: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM emails"#)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(sent, 30);
}

#[sqlx::test(migrations = "../migrations")]
async fn failing_handlers_retry_with_backoff_then_go_dead(db: PgPool) {
    let app = app(db).await;
    // An address lettre cannot send to makes the SMTP path fail; here the dev mailbox
    // fails instead when the emails table refuses the row.
    sqlx::query!("INSERT INTO outbox (topic, payload) VALUES ('user_created', '{\"user_id\":\"x\",\"email\":null}')")
        .execute(&app.db)
        .await
        .expect("event");
    sqlx::query!("ALTER TABLE emails ADD CONSTRAINT test_no_empty_to CHECK (to_address <> '')")
        .execute(&app.db)
        .await
        .expect("constraint");
    let mut w = worker(&app, Duration::from_secs(60));
    w.max_attempts = 2;
    assert_eq!(w.run_once().await.expect("pass"), 1);
    let (status, attempts, error, delay) = sqlx::query!(
        r#"SELECT status, attempts, last_error, extract(epoch FROM available_at - now())::float8 AS "delay!" FROM outbox"#
    )
    .fetch_one(&app.db)
    .await
    .map(|r| (r.status, r.attempts, r.last_error, r.delay))
    .expect("row");
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.is_some());
    assert!(delay > 0.5, "retried later, not at once");
    sqlx::query!("UPDATE outbox SET available_at = now()")
        .execute(&app.db)
        .await
        .expect("skip wait");
    assert_eq!(w.run_once().await.expect("pass"), 1);
    let status: String = sqlx::query_scalar!("SELECT status FROM outbox")
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(status, "dead");
}

#[sqlx::test(migrations = "../migrations")]
async fn password_reset_works_once_within_the_hour(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let ask = app
        .client
        .post(app.url("/rpc/accounts/password/forgot"))
        .form(&[("email", "ann@example.com")])
        .send()
        .await
        .expect("send");
    assert!(
        ask.status().is_success() || ask.status().is_redirection(),
        "{}",
        ask.status()
    );
    let unknown = app
        .client
        .post(app.url("/rpc/accounts/password/forgot"))
        .form(&[("email", "ghost@example.com")])
        .send()
        .await
        .expect("send");
    assert_eq!(
        unknown.status(),
        ask.status(),
        "the same answer for unknown emails"
    );
    app.drain_outbox().await;
    let mail = app.mailbox("ann@example.com").await;
    let reset = mail
        .iter()
        .find(|m| m["subject"] == "Reset your Bazaar password")
        .expect("reset mail");
    let body = reset["body"].as_str().expect("body");
    let token = body
        .split("token=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("link")
        .to_owned();
    assert!(app.mailbox("ghost@example.com").await.is_empty());
    let secret_left: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM outbox WHERE payload ? 'secret'"#)
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(
        secret_left, 0,
        "the token is erased from the outbox once sent"
    );

    let short = app
        .client
        .post(app.url("/rpc/accounts/password/reset"))
        .form(&[("token", token.as_str()), ("password", "short")])
        .send()
        .await
        .expect("send");
    assert_eq!(short.status().as_u16(), 422);
    let new_password = "a brand new password";
    let ok = app
        .client
        .post(app.url("/rpc/accounts/password/reset"))
        .form(&[("token", token.as_str()), ("password", new_password)])
        .send()
        .await
        .expect("send");
    assert!(
        ok.status().is_success() || ok.status().is_redirection(),
        "{}",
        ok.status()
    );
    app.login("ann@example.com", new_password).await;
    let old = app
        .post_json(
            "/api/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD}),
            &[],
        )
        .await;
    assert_eq!(old.status().as_u16(), 401);
    let again = app
        .client
        .post(app.url("/rpc/accounts/password/reset"))
        .form(&[
            ("token", token.as_str()),
            ("password", "yet another password"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(again.status().as_u16(), 400, "single use");
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_reset_tokens_are_refused(db: PgPool) {
    let app = app(db).await;
    app.signup("ann@example.com", PASSWORD).await;
    let accounts = domain::Accounts::new(
        app.db.clone(),
        domain::accounts::TokenKeys::new(&"x".repeat(40), Duration::from_secs(60)),
    );
    accounts
        .request_password_reset(&types::Email::parse("ann@example.com").expect("email"))
        .await
        .expect("request");
    let token: String = sqlx::query_scalar!(
        r#"SELECT payload->>'secret' AS "t!" FROM outbox WHERE topic = 'password_reset_requested'"#
    )
    .fetch_one(&app.db)
    .await
    .expect("token");
    sqlx::query!("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .expect("expire");
    let res = accounts
        .reset_password(
            &token,
            &types::Password::parse("a brand new password").expect("pw"),
        )
        .await;
    assert_eq!(res.expect_err("expired").status(), 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_dev_mailbox_page_lists_mail_and_production_hides_it(db: PgPool) {
    let app = app(db.clone()).await;
    app.signup("ann@example.com", PASSWORD).await;
    app.drain_outbox().await;
    let (status, html) = app.get_html("/dev/mailbox?to=ann@example.com").await;
    assert_eq!(status, 200);
    assert!(html.contains("Welcome to Bazaar") && html.contains("ann@example.com"));

    let prod = spawn_with(db, crate::common::PRODUCTION_ENV).await;
    assert_eq!(prod.get("/dev/mailbox").await.status().as_u16(), 404);
    assert_eq!(prod.get("/dev/mailbox.json").await.status().as_u16(), 404);
    let hsts = prod.get("/health").await;
    assert!(
        hsts.headers().contains_key("strict-transport-security"),
        "production sends HSTS"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn create_admin_reads_the_password_from_stdin_and_grants_the_role(db: PgPool) {
    use std::io::Write;
    let opts = db.connect_options();
    let database = opts.get_database().expect("test database name").to_owned();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let url = format!("{}/{database}", base.rsplit_once('/').expect("url").0);
    let run = |password: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args([
                "create-admin",
                "--email",
                "Boss@Example.com",
                "--name",
                "Boss",
                "--password-stdin",
            ])
            .env("DATABASE_URL", &url)
            .env("LOG_FORMAT", "json")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("write");
        child.wait().expect("wait")
    };
    assert!(!run("short").success(), "a weak password is refused");
    assert!(run(PASSWORD).success());
    let role: String =
        sqlx::query_scalar!("SELECT role FROM users WHERE email = 'boss@example.com'")
            .fetch_one(&db)
            .await
            .expect("user");
    assert_eq!(role, "admin");
    let app = app(db).await;
    let cookie = app.login("boss@example.com", PASSWORD).await;
    let me: Value = app
        .get_with_cookie("/api/users/me", &cookie)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "admin");
}

/// A mail server that takes `delay` to accept each message, counting what it accepted.
async fn slow_smtp(delay: Duration) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 slow.test ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        tokio::time::sleep(delay).await;
                        counter.fetch_add(1, Ordering::SeqCst);
                        b"250 queued\r\n"
                    } else {
                        match line
                            .get(..4)
                            .unwrap_or_default()
                            .to_ascii_uppercase()
                            .as_str()
                        {
                            "EHLO" | "HELO" => b"250 slow.test\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("smtp://127.0.0.1:{port}"), accepted)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_mail_slower_than_the_lease_is_sent_once_because_the_sender_renews_its_lease(db: PgPool) {
    let app = app(db).await;
    // A two-second lease renewed every 667 ms: a renewal can be well over a second late on
    // a busy machine before the lease lapses.
    let (smtp, accepted) = slow_smtp(Duration::from_secs(5)).await;
    let smtp_worker = || {
        let mailer = Mailer::new(app.db.clone(), Some(&smtp), "shop@bazaar.test").expect("mailer");
        let mut w = OutboxWorker::new(
            app.db.clone(),
            Dispatcher {
                db: app.db.clone(),
                mailer,
                public_url: app.base.clone(),
            },
        );
        w.lease = Duration::from_secs(2);
        w
    };
    app.signup("ann@example.com", PASSWORD).await;
    let sender = smtp_worker();
    let sending = tokio::spawn(async move { sender.run_once().await });
    // Well past the two-second lease, while the first worker is still sending.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let other = smtp_worker();
    assert_eq!(
        other.run_once().await.expect("pass"),
        0,
        "the event is still held by the worker sending it"
    );
    assert_eq!(sending.await.expect("join").expect("pass"), 1);
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one welcome mail"
    );
    assert_eq!(
        outbox_status(&app.db).await,
        [("user_created".to_owned(), "done".to_owned())]
    );
}
