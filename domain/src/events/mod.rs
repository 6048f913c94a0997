//! Outbox events on a broker, for systems outside the binary: the seed's "Kafka or SQS".
//!
//! The outbox stays the source of truth, written in the business change's transaction. The
//! [`relay::Relay`] publishes each event, in id order, to the broker `EVENT_BUS_URL` names,
//! and marks it relayed once the broker acknowledged it. `docs/events.md` is the public
//! schema of what it publishes: an [`Envelope`] per event.

pub mod nats;
pub mod relay;
pub mod sqs;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use time::OffsetDateTime;

/// One published event: the public contract of `docs/events.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The outbox event id: unique, and increasing in the order events were written.
    pub id: i64,
    /// One of [`crate::outbox::topics`].
    pub topic: String,
    /// When the transaction that wrote the event began, RFC 3339 in UTC.
    pub time: String,
    /// The topic's fields, without any secret the outbox keeps for its own handlers.
    pub data: Value,
}

impl Envelope {
    /// The NATS subject: `bazaar.events.<topic>`.
    pub fn subject(&self) -> String {
        format!("{}.{}", nats::SUBJECT_PREFIX, self.topic)
    }

    /// The entity the event is about (`order:<id>`, `product:<slug>`, `user:<id>`): events of
    /// one aggregate arrive in the order they were written, and are the SQS message group.
    pub fn aggregate(&self) -> String {
        let field = |name: &str| self.data.get(name).and_then(Value::as_str);
        if let Some(order) = field("order_id") {
            format!("order:{order}")
        } else if let Some(slug) = field("slug") {
            format!("product:{slug}")
        } else if let Some(user) = field("user_id") {
            format!("user:{user}")
        } else {
            format!("topic:{}", self.topic)
        }
    }
}

/// An event on its way to the broker.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// What is published.
    pub envelope: Envelope,
    /// The W3C trace the event was raised under, sent as a `traceparent` header.
    pub trace_parent: Option<String>,
    /// When the event was written, for the relay's lag.
    pub written_at: OffsetDateTime,
}

/// What a broker acknowledged of a window of events.
#[derive(Debug, Default)]
pub struct Published {
    /// How many events, from the first, the broker acknowledged.
    pub acked: usize,
    /// Why it stopped short of the whole window.
    pub error: Option<String>,
}

/// A broker the relay publishes to.
pub trait Publisher: Send + Sync + 'static {
    /// Publishes `events` in order, waiting for the broker's acknowledgements. The window
    /// holds at most one event per aggregate, so a failure part-way can never let a later
    /// event of an aggregate overtake an earlier one.
    fn publish(&self, events: &[Outgoing]) -> impl Future<Output = Published> + Send;

    /// The most events one [`Publisher::publish`] call takes.
    fn window(&self) -> usize;

    /// For logs and metrics: `nats` or `sqs`.
    fn kind(&self) -> &'static str;
}

/// The broker `EVENT_BUS_URL` names.
pub enum Bus {
    /// `nats://` or `tls://`: NATS JetStream.
    Nats(nats::NatsBus),
    /// `sqs://<queue>.fifo`: an SQS FIFO queue.
    Sqs(sqs::SqsBus),
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

/// What `EVENT_BUS_URL` names, checked without connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A NATS server list (comma-separated URLs are allowed).
    Nats(String),
    /// An SQS FIFO queue, by name.
    Sqs(String),
}

impl Target {
    /// Parses `EVENT_BUS_URL`.
    pub fn parse(url: &str) -> Result<Self, String> {
        match url.split_once("://") {
            Some(("nats" | "tls", rest)) if !rest.is_empty() => Ok(Target::Nats(url.to_owned())),
            Some(("sqs", queue)) => {
                let queue = queue.trim_matches('/');
                if !queue.ends_with(".fifo") || queue.len() <= ".fifo".len() || queue.contains('/') {
                    return Err(format!(
                        "EVENT_BUS_URL sqs://{queue}: name a FIFO queue, e.g. sqs://bazaar-events.fifo (ordering and de-duplication need one)"
                    ));
                }
                Ok(Target::Sqs(queue.to_owned()))
            }
            _ => Err(format!(
                "EVENT_BUS_URL `{url}` is not supported; use nats://host:4222, tls://host:4222 or sqs://<queue>.fifo"
            )),
        }
    }
}

impl Bus {
    /// Prepares the broker client. Neither adapter needs the broker up: the relay retries
    /// until it answers, and the shop keeps taking orders meanwhile.
    pub async fn connect(url: &str) -> Result<Self, String> {
        Ok(match Target::parse(url)? {
            Target::Nats(servers) => Bus::Nats(nats::NatsBus::connect(&servers).await?),
            Target::Sqs(queue) => Bus::Sqs(sqs::SqsBus::from_env(&queue)?),
        })
    }
}

impl Publisher for Bus {
    async fn publish(&self, events: &[Outgoing]) -> Published {
        match self {
            Bus::Nats(bus) => bus.publish(events).await,
            Bus::Sqs(bus) => bus.publish(events).await,
        }
    }

    fn window(&self) -> usize {
        match self {
            Bus::Nats(bus) => bus.window(),
            Bus::Sqs(bus) => bus.window(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Bus::Nats(bus) => bus.kind(),
            Bus::Sqs(bus) => bus.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(topic: &str, data: Value) -> Envelope {
        Envelope {
            id: 1,
            topic: topic.to_owned(),
            time: "2026-12-02T10:00:00Z".to_owned(),
            data,
        }
    }

    #[test]
    fn an_event_belongs_to_its_order_then_its_product_then_its_user() {
        let paid = envelope("payment_succeeded", json!({"order_id": "o1", "amount": 5}));
        assert_eq!(paid.aggregate(), "order:o1");
        assert_eq!(paid.subject(), "bazaar.events.payment_succeeded");
        let edit = envelope(
            "product_updated",
            json!({"slug": "mug", "change": "edited"}),
        );
        assert_eq!(edit.aggregate(), "product:mug");
        let signup = envelope("user_created", json!({"user_id": "u1", "email": "a@b.c"}));
        assert_eq!(signup.aggregate(), "user:u1");
        assert_eq!(envelope("other", json!({})).aggregate(), "topic:other");
    }

    #[test]
    fn the_bus_url_names_nats_or_an_sqs_fifo_queue() {
        assert_eq!(
            Target::parse("nats://127.0.0.1:4222"),
            Ok(Target::Nats("nats://127.0.0.1:4222".to_owned()))
        );
        assert_eq!(
            Target::parse("sqs://bazaar-events.fifo"),
            Ok(Target::Sqs("bazaar-events.fifo".to_owned()))
        );
        for bad in [
            "sqs://bazaar-events",
            "sqs://.fifo",
            "kafka://broker:9092",
            "nats://",
            "x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
