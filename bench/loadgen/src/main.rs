//! `loadgen SCENARIO`: N connections, each its own shopper, in a closed loop for a fixed
//! time against 127.0.0.1. Prints requests/s and latency percentiles of the measured step.
//!
//! - `health`: `GET /health`, the tool's own ceiling (the baseline of the same run).
//! - `add-to-cart`: `POST /api/cart/items`, one unit a time; a shopper whose line nears 99
//!   starts a fresh guest session.
//! - `checkout`: each loop adds one unit (not measured) then `POST /api/checkout` with a new
//!   `Idempotency-Key` (measured); orders/s counts the 201s.

use anyhow::Context;
use clap::{Parser, ValueEnum};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Scenario {
    Health,
    AddToCart,
    Checkout,
}

#[derive(Parser)]
struct Args {
    #[arg(value_enum)]
    scenario: Scenario,
    /// Base URL of the server (keep it on 127.0.0.1).
    #[arg(long, default_value = "http://127.0.0.1:3200")]
    url: String,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    #[arg(long, default_value = "CLASSIC-MUG-STANDARD")]
    sku: String,
}

#[derive(Default)]
struct Tally {
    ok: u64,
    failed: u64,
    latencies_us: Vec<u64>,
}

fn cookie_of(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bazaar_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

async fn shopper(args: std::sync::Arc<Args>, id: usize, until: Instant) -> anyhow::Result<Tally> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let mut tally = Tally::default();
    let mut cookie: Option<String> = None;
    let mut in_line = 0u32;
    let mut n = 0u64;
    let add_body = json!({"sku": args.sku, "quantity": 1});
    let checkout_body = json!({
        "email": "bench@example.com",
        "shipping_address": {"name": "Bench", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
        "shipping_method": "standard"
    });
    while Instant::now() < until {
        n += 1;
        let mut add = client
            .post(format!("{}/api/cart/items", args.url))
            .json(&add_body);
        if let Some(c) = &cookie {
            add = add.header("cookie", c);
        }
        let started = Instant::now();
        let res = match args.scenario {
            Scenario::Health => client.get(format!("{}/health", args.url)).send().await?,
            Scenario::AddToCart | Scenario::Checkout => add.send().await?,
        };
        if args.scenario != Scenario::Health {
            if let Some(c) = cookie_of(&res) {
                cookie = Some(c);
            }
        }
        let res = if args.scenario == Scenario::Checkout {
            let _ = res.bytes().await?;
            let started = Instant::now();
            let mut req = client
                .post(format!("{}/api/checkout", args.url))
                .header("idempotency-key", format!("bench-{id}-{n}"))
                .json(&checkout_body);
            if let Some(c) = &cookie {
                req = req.header("cookie", c);
            }
            let res = req.send().await?;
            let status = res.status();
            let _ = res.bytes().await?;
            (status, started.elapsed())
        } else {
            let status = res.status();
            let _ = res.bytes().await?;
            (status, started.elapsed())
        };
        let (status, elapsed) = res;
        let wanted = if args.scenario == Scenario::Checkout {
            201
        } else {
            200
        };
        if status.as_u16() == wanted {
            tally.ok += 1;
        } else {
            tally.failed += 1;
        }
        tally.latencies_us.push(elapsed.as_micros() as u64);
        if args.scenario == Scenario::AddToCart {
            in_line += 1;
            if in_line >= 98 {
                // A full line would turn every further add into a 422: new shopper.
                cookie = None;
                in_line = 0;
            }
        }
    }
    Ok(tally)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = std::sync::Arc::new(Args::parse());
    let until = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..args.connections {
        tasks.push(tokio::spawn(shopper(args.clone(), id, until)));
    }
    let mut all = Tally::default();
    for t in tasks {
        let tally = t.await.context("join")??;
        all.ok += tally.ok;
        all.failed += tally.failed;
        all.latencies_us.extend(tally.latencies_us);
    }
    let secs = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    // One line, machine-readable: ok/s, p50 ms, p99 ms, failures.
    println!(
        "ok_per_sec={:.0} p50_ms={:.2} p99_ms={:.2} failed={} total={}",
        all.ok as f64 / secs,
        percentile(&all.latencies_us, 0.50),
        percentile(&all.latencies_us, 0.99),
        all.failed,
        all.ok + all.failed
    );
    Ok(())
}
