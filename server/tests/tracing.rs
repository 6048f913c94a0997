//! Traces leave over OTLP/HTTP when an endpoint is configured, joined to the caller's trace.
//! Its own test binary: it installs the process-wide subscriber.

mod common;

use axum::{body::Bytes, routing::post, Router};
use common::spawn_with;
use server::{config::LogFormat, telemetry};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[sqlx::test(migrations = "../migrations")]
async fn a_request_span_is_exported_over_otlp_under_the_callers_trace_id(db: PgPool) {
    // A stand-in OTLP collector that keeps every export body.
    let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let sink = bodies.clone();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("lock").push(body);
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let guard = telemetry::init(LogFormat::Json, Some(&endpoint));
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = app
        .client
        .get(app.url("/health"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    // Dropping the guard flushes the batch exporter (on its own thread).
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .expect("flush");

    let wanted = hex(trace_id);
    let mut found = false;
    for _ in 0..50 {
        found = bodies
            .lock()
            .expect("lock")
            .iter()
            .any(|b| b.windows(16).any(|w| w == wanted.as_slice()));
        if found {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "an exported span carries the caller's trace id");
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
