//! Keeping one trace across time. A change records the W3C `traceparent` of the span it
//! ran under; work that happens later because of it (the provider's webhook for an order,
//! the worker handling an outbox event) opens its span under that parent, so a single
//! trace shows checkout → order → payment session → webhook → settle.

use opentelemetry::propagation::{Extractor, Injector};
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct Carrier(HashMap<String, String>);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The current span's `traceparent`, when tracing is exported (`None` otherwise).
pub fn current() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = Carrier(HashMap::new());
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier.0.remove("traceparent")
}

/// Puts `span` under the recorded `traceparent`, if there is one. Call before the span is
/// first entered.
pub fn adopt(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = Carrier([("traceparent".to_owned(), traceparent.to_owned())].into());
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    if let Err(e) = span.set_parent(parent) {
        tracing::debug!(error = ?e, "could not join the recorded trace");
    }
}
