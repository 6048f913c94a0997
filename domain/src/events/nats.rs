//! The NATS JetStream adapter: stream `BAZAAR_EVENTS`, subjects `bazaar.events.<topic>`,
//! and the outbox id as `Nats-Msg-Id`, so JetStream drops a publish it already stored.

use super::{Outgoing, Published, Publisher};
use async_nats::jetstream::{self, stream};
use std::time::Duration;
use tokio::sync::OnceCell;

/// The stream every event is stored in.
pub const STREAM: &str = "BAZAAR_EVENTS";
/// Subjects are this prefix, a dot, and the topic.
pub const SUBJECT_PREFIX: &str = "bazaar.events";
/// How long JetStream remembers message ids: a relay that crashed between the broker's
/// acknowledgement and its own bookkeeping republishes within seconds, well inside this.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Events published before their acknowledgements are awaited.
const WINDOW: usize = 128;
/// How long one window may take, acknowledgements included, before it counts as failed.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(5);

/// A JetStream publisher.
pub struct NatsBus {
    js: jetstream::Context,
    stream: OnceCell<()>,
    replicas: usize,
}

impl NatsBus {
    /// Starts connecting to `servers` (`nats://user:pass@host:4222`, comma-separated for a
    /// cluster) in the background; `NATS_CREDS_FILE` adds a credentials file, and
    /// `NATS_STREAM_REPLICAS` the stream's replica count when the relay creates it.
    pub async fn connect(servers: &str) -> Result<Self, String> {
        let mut options = async_nats::ConnectOptions::new()
            .name("bazaar-relay")
            .connection_timeout(Duration::from_secs(3))
            // Back within a second or two of the server: the default waits grow to seconds.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 100).min(1_000))
            })
            .retry_on_initial_connect();
        if let Some(path) = std::env::var_os("NATS_CREDS_FILE") {
            options = options
                .credentials_file(&path)
                .await
                .map_err(|e| format!("NATS_CREDS_FILE {}: {e}", path.to_string_lossy()))?;
        }
        let replicas = match std::env::var("NATS_STREAM_REPLICAS") {
            Ok(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| format!("NATS_STREAM_REPLICAS `{n}`: use 1 to 5"))?,
            Err(_) => 1,
        };
        let client = options
            .connect(servers)
            .await
            .map_err(|e| format!("EVENT_BUS_URL {servers}: {e}"))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(WINDOW_TIMEOUT)
            .ack_timeout(WINDOW_TIMEOUT)
            .build(client);
        Ok(NatsBus {
            js,
            stream: OnceCell::new(),
            replicas,
        })
    }

    /// Creates the stream unless it exists; an existing one is used as the operator made it.
    async fn ensure_stream(&self) -> Result<(), String> {
        self.stream
            .get_or_try_init(|| async {
                self.js
                    .get_or_create_stream(stream::Config {
                        name: STREAM.to_owned(),
                        description: Some("Bazaar's outbox events (docs/events.md)".to_owned()),
                        subjects: vec![format!("{SUBJECT_PREFIX}.>")],
                        storage: stream::StorageType::File,
                        num_replicas: self.replicas,
                        max_age: Duration::from_secs(7 * 86_400),
                        duplicate_window: DUPLICATE_WINDOW,
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("stream {STREAM}: {e}"))
            })
            .await
            .map(|_| ())
    }

    async fn publish_window(&self, events: &[Outgoing], done: &mut usize) -> Result<(), String> {
        self.ensure_stream().await?;
        // Sent back to back on one connection, so the stream stores them in this order;
        // the acknowledgements are awaited afterwards, in the same order.
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", event.envelope.id.to_string().as_str());
            if let Some(trace) = &event.trace_parent {
                headers.insert("traceparent", trace.as_str());
            }
            let body = serde_json::to_vec(&event.envelope).map_err(|e| e.to_string())?;
            let ack = self
                .js
                .publish_with_headers(event.envelope.subject(), headers, body.into())
                .await
                .map_err(|e| format!("publish: {e}"))?;
            acks.push(ack);
        }
        for ack in acks {
            let ack = ack.await.map_err(|e| format!("acknowledgement: {e}"))?;
            if ack.stream != STREAM {
                return Err(format!(
                    "stored in stream {} instead of {STREAM}",
                    ack.stream
                ));
            }
            *done += 1;
        }
        Ok(())
    }
}

impl Publisher for NatsBus {
    async fn publish(&self, events: &[Outgoing]) -> Published {
        let mut acked = 0;
        // While disconnected the client queues publishes instead of failing them; the
        // timeout turns that into a failed window, retried once the server is back.
        let outcome =
            tokio::time::timeout(WINDOW_TIMEOUT, self.publish_window(events, &mut acked)).await;
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(format!("no acknowledgement within {WINDOW_TIMEOUT:?}")),
        };
        Published { acked, error }
    }

    fn window(&self) -> usize {
        WINDOW
    }

    fn kind(&self) -> &'static str {
        "nats"
    }
}
