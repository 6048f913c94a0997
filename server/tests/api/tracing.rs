//! Traces leave over OTLP/HTTP when an endpoint is configured, joined to the caller's trace.
//! Each test installs the process-wide subscriber, which is why the suite runs one test
//! per process (nextest).

use crate::common::spawn_with;
use axum::{body::Bytes, routing::post, Router};
use server::{config::LogFormat, telemetry};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A stand-in OTLP collector that keeps every export body: its address and the bodies.
async fn collector() -> (String, Arc<Mutex<Vec<Bytes>>>) {
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
    (endpoint, bodies)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_request_span_is_exported_over_otlp_under_the_callers_trace_id(db: PgPool) {
    let (endpoint, bodies) = collector().await;

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

/// One exported span: the parts a trace is assembled from.
#[derive(Clone, Debug)]
struct Span {
    trace: Vec<u8>,
    id: Vec<u8>,
    parent: Vec<u8>,
    name: String,
}

/// The fields of one protobuf message: (number, bytes of a length-delimited value).
/// Varints and fixed-width values are skipped; spans need only their bytes and strings.
fn fields(mut buf: &[u8]) -> Vec<(u64, &[u8])> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = buf.split_first()?;
            *buf = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut out = Vec::new();
    while let Some(key) = varint(&mut buf) {
        let len = match key & 7 {
            0 => {
                varint(&mut buf);
                continue;
            }
            1 => 8,
            5 => 4,
            2 => match varint(&mut buf).and_then(|l| usize::try_from(l).ok()) {
                Some(l) if l <= buf.len() => {
                    out.push((key >> 3, &buf[..l]));
                    l
                }
                _ => break,
            },
            _ => break,
        };
        buf = buf.get(len.min(buf.len())..).unwrap_or_default();
    }
    out
}

/// Every span in one OTLP `ExportTraceServiceRequest` body.
fn spans(body: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    for (_, resource) in fields(body).into_iter().filter(|(n, _)| *n == 1) {
        for (_, scope) in fields(resource).into_iter().filter(|(n, _)| *n == 2) {
            for (_, span) in fields(scope).into_iter().filter(|(n, _)| *n == 2) {
                let mut s = Span {
                    trace: vec![],
                    id: vec![],
                    parent: vec![],
                    name: String::new(),
                };
                for (n, value) in fields(span) {
                    match n {
                        1 => s.trace = value.to_vec(),
                        2 => s.id = value.to_vec(),
                        4 => s.parent = value.to_vec(),
                        5 => s.name = String::from_utf8_lossy(value).into_owned(),
                        _ => {}
                    }
                }
                out.push(s);
            }
        }
    }
    out
}

#[sqlx::test(migrations = "../migrations")]
async fn one_trace_follows_an_order_from_checkout_through_the_webhook_to_settling(db: PgPool) {
    use crate::common::shop::{guest_checkout, pay, session_of, set_stock, Shopper, MUG};
    let (endpoint, bodies) = collector().await;
    let guard = telemetry::init(LogFormat::Json, Some(&endpoint));
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    crate::common::seed(&app.db, &app.media_dir, 3).await;
    set_stock(&app.db, MUG, 10).await;

    // Checkout, then the shopper pays on the provider's page, whose webhook comes back in
    // a request of its own; the worker settles the order later still.
    let mut guest = Shopper::new(&app);
    assert_eq!(guest.add(MUG, 1).await.0, 200);
    let (status, placed) = guest
        .checkout(&uuid::Uuid::new_v4().to_string(), guest_checkout())
        .await;
    assert_eq!(status, 201, "{placed}");
    let paid = pay(&app, &session_of(&placed), "4242 4242 4242 4242").await;
    assert_eq!(paid.status().as_u16(), 303);
    app.drain_outbox().await;
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .expect("flush");

    let mut all = Vec::new();
    for _ in 0..50 {
        all = bodies
            .lock()
            .expect("lock")
            .iter()
            .flat_map(|b| spans(b))
            .collect::<Vec<_>>();
        if all.iter().any(|s| s.name == "payments.settle") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let one = |name: &str| {
        all.iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no {name} span among {:?}",
                    all.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
            .clone()
    };
    let checkout = one("checkout.place");
    let order = one("orders.place");
    let session = one("payments.start");
    let webhook = one("payments.paid");
    let event = all
        .iter()
        .find(|s| s.name == "outbox.event" && s.parent == webhook.id)
        .expect("the payment_succeeded event is handled under the webhook's span")
        .clone();
    let settle = one("payments.settle");
    for span in [&order, &session, &webhook, &event, &settle] {
        assert_eq!(
            span.trace, checkout.trace,
            "{} is in the checkout's trace",
            span.name
        );
    }
    assert_eq!(
        order.parent, checkout.id,
        "the order is placed by the checkout"
    );
    assert_eq!(
        session.parent, checkout.id,
        "the session is opened by the checkout"
    );
    assert_eq!(
        webhook.parent, order.id,
        "the payment joins the order it pays"
    );
    assert_eq!(
        settle.parent, event.id,
        "settling runs in the event's handler"
    );
    // The webhook's own request is a trace of its own; only the payment is joined.
    let receipt = one("payments.webhook");
    assert_ne!(receipt.trace, checkout.trace);
}
