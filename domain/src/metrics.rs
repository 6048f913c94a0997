//! Process-wide Prometheus metrics: HTTP RED by route template, the pool and Redis, and the
//! business signals the alerts watch (orders, checkout failures, payments, webhooks,
//! expiries, the outbox). `/metrics` renders them in the text exposition format.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;

/// Every metric, registered once.
pub struct Metrics {
    /// The registry `/metrics` renders.
    pub registry: Registry,
    /// Requests by method, route template and status class.
    pub http_requests: IntCounterVec,
    /// Request latency by method and route template.
    pub http_duration: HistogramVec,
    /// Orders placed (replays of a key not counted).
    pub orders_created: IntCounter,
    /// Failed checkouts by reason.
    pub checkout_failures: IntCounterVec,
    /// Payment outcomes by kind.
    pub payments: IntCounterVec,
    /// Webhook events received by type and outcome.
    pub webhook_events: IntCounterVec,
    /// Webhook deliveries refused, by reason.
    pub webhook_failures: IntCounterVec,
    /// Seconds from the provider's event to our receipt.
    pub webhook_lag: Histogram,
    /// Unpaid orders cancelled with their stock released.
    pub reservations_expired: IntCounter,
    /// Outbox events by status.
    pub outbox_events: IntGaugeVec,
    /// Age in seconds of the oldest pending outbox event.
    pub outbox_oldest_age: IntGauge,
    /// Events the relay published, by topic.
    pub events_relayed: IntCounterVec,
    /// Relay windows the broker did not fully acknowledge.
    pub relay_failures: IntCounter,
    /// Seconds from an event's transaction to the broker's acknowledgement.
    pub relay_lag: Histogram,
    /// 1 while the broker acknowledged the relay's last window, else 0.
    pub relay_up: IntGauge,
    /// Events not relayed yet (read at scrape time, when a relay is configured).
    pub relay_backlog: IntGauge,
    /// Age in seconds of the oldest event not relayed yet.
    pub relay_oldest_age: IntGauge,
    /// Pool connections by state (idle, in use).
    pub db_connections: IntGaugeVec,
    /// The pool's size limit.
    pub db_max_connections: IntGauge,
    /// Database errors seen by the services.
    pub db_errors: IntCounter,
    /// 1 while Redis answers a ping, else 0.
    pub redis_up: IntGauge,
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    r.register(Box::new(c.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    r.register(Box::new(g.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    g
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .unwrap_or_else(|e| panic!("histogram {name}: {e}"));
    r.register(Box::new(h.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    h
}

fn single(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    r.register(Box::new(c.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    c
}

/// The metrics. Names are fixed at compile time, so registering cannot fail at run time.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let r = Registry::new_custom(Some("bazaar".to_owned()), None).unwrap_or_default();
    let http_duration = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time to answer, by route template",
        )
        .buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        &["method", "route"],
    )
    .unwrap_or_else(|e| panic!("histogram: {e}"));
    r.register(Box::new(http_duration.clone()))
        .unwrap_or_else(|e| panic!("register: {e}"));
    let webhook_lag = histogram(
        &r,
        "payment_webhook_lag_seconds",
        "From the provider creating an event to our processing it",
        vec![
            0.1, 0.5, 1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
        ],
    );
    let outbox_events = IntGaugeVec::new(
        Opts::new("outbox_events", "Outbox events by status"),
        &["status"],
    )
    .unwrap_or_else(|e| panic!("gauge: {e}"));
    r.register(Box::new(outbox_events.clone()))
        .unwrap_or_else(|e| panic!("register: {e}"));
    let relay_lag = histogram(
        &r,
        "event_relay_lag_seconds",
        "From an outbox event's transaction to the broker's acknowledgement",
        vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0,
        ],
    );
    let db_connections = IntGaugeVec::new(
        Opts::new("db_pool_connections", "Postgres pool connections by state"),
        &["state"],
    )
    .unwrap_or_else(|e| panic!("gauge: {e}"));
    r.register(Box::new(db_connections.clone()))
        .unwrap_or_else(|e| panic!("register: {e}"));
    Metrics {
        http_requests: counter(
            &r,
            "http_requests_total",
            "Requests answered, by route template and status",
            &["method", "route", "status"],
        ),
        http_duration,
        orders_created: single(&r, "orders_created_total", "Orders placed"),
        checkout_failures: counter(
            &r,
            "checkout_failures_total",
            "Checkouts refused, by reason",
            &["reason"],
        ),
        payments: counter(
            &r,
            "payments_total",
            "Payment events applied, by outcome",
            &["outcome"],
        ),
        webhook_events: counter(
            &r,
            "payment_webhook_events_total",
            "Webhook deliveries, by event type and result",
            &["type", "result"],
        ),
        webhook_failures: counter(
            &r,
            "payment_webhook_failures_total",
            "Webhook deliveries refused or failed, by reason",
            &["reason"],
        ),
        webhook_lag,
        reservations_expired: single(
            &r,
            "reservations_expired_total",
            "Unpaid orders cancelled at the end of their hold",
        ),
        outbox_events,
        outbox_oldest_age: gauge(
            &r,
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox event",
        ),
        events_relayed: counter(
            &r,
            "events_relayed_total",
            "Outbox events the broker acknowledged, by topic",
            &["topic"],
        ),
        relay_failures: single(
            &r,
            "event_relay_failures_total",
            "Relay windows the broker did not fully acknowledge",
        ),
        relay_lag,
        relay_up: gauge(
            &r,
            "event_relay_up",
            "1 when the broker acknowledged the last window",
        ),
        relay_backlog: gauge(&r, "event_relay_backlog", "Outbox events not relayed yet"),
        relay_oldest_age: gauge(
            &r,
            "event_relay_oldest_age_seconds",
            "Age of the oldest outbox event not relayed yet",
        ),
        db_connections,
        db_max_connections: gauge(&r, "db_pool_max_connections", "Postgres pool size limit"),
        db_errors: single(
            &r,
            "db_errors_total",
            "Database errors seen by request handlers",
        ),
        redis_up: gauge(&r, "redis_up", "1 when Redis answered the last ping"),
        registry: r,
    }
});

/// The text exposition of every metric.
pub fn render() -> String {
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&METRICS.registry.gather(), &mut out) {
        tracing::warn!(error = %e, "metrics encoding failed");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A checkout that failed, by the kind of error.
pub fn checkout_failed(err: &types::AppError) {
    let reason = match err {
        types::AppError::Validation { .. } | types::AppError::InvalidQuery { .. } => "invalid",
        types::AppError::Conflict(_) => "conflict",
        types::AppError::BadRequest(_) => "bad_request",
        types::AppError::Unavailable(_) => "unavailable",
        types::AppError::RateLimited { .. } => "rate_limited",
        types::AppError::Unauthorized(_) | types::AppError::Forbidden(_) => "denied",
        types::AppError::NotFound(_) => "not_found",
        types::AppError::Internal(_) => "internal",
    };
    METRICS.checkout_failures.with_label_values(&[reason]).inc();
}

/// Refreshes the gauges read at scrape time: the outbox backlog and its age. Each part reads
/// a partial index, so a scrape costs what the backlog costs, never the table's history.
pub async fn refresh_outbox<'c>(db: impl sqlx::PgExecutor<'c>) {
    let row = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') AS "pending!",
                  (SELECT count(*) FROM outbox WHERE status = 'dead') AS "dead!",
                  COALESCE((SELECT extract(epoch FROM now() - min(created_at))::bigint
                            FROM outbox WHERE status = 'pending'), 0) AS "age!""#
    )
    .fetch_one(db)
    .await;
    match row {
        Ok(r) => {
            METRICS
                .outbox_events
                .with_label_values(&["pending"])
                .set(r.pending);
            METRICS
                .outbox_events
                .with_label_values(&["dead"])
                .set(r.dead);
            METRICS.outbox_oldest_age.set(r.age);
        }
        Err(e) => {
            METRICS.db_errors.inc();
            tracing::warn!(error = %e, "outbox metrics unavailable");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_up_in_the_exposition_with_the_namespace() {
        METRICS.orders_created.inc();
        METRICS
            .checkout_failures
            .with_label_values(&["conflict"])
            .inc();
        let text = render();
        assert!(text.contains("bazaar_orders_created_total"), "{text}");
        assert!(
            text.contains("bazaar_checkout_failures_total{reason=\"conflict\"}"),
            "{text}"
        );
    }
}
