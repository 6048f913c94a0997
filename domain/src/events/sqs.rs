//! The SQS adapter: events go straight to one FIFO queue, with the aggregate as the message
//! group (order kept per order, product, user) and the outbox id as the de-duplication id.
//! Requests use SQS's JSON protocol, signed with SigV4 by `object_store`, whose AWS
//! credential chain (environment, IRSA web identity, instance metadata) this reuses.

use super::{Outgoing, Published, Publisher};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer, AwsCredentialProvider};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::OnceCell;

/// SQS takes at most ten messages per `SendMessageBatch`.
const WINDOW: usize = 10;
const TIMEOUT: Duration = Duration::from_secs(5);

/// An SQS FIFO queue publisher.
pub struct SqsBus {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: AwsCredentialProvider,
    queue: String,
    queue_url: OnceCell<String>,
}

impl SqsBus {
    /// The queue `name` in `AWS_REGION`, at `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL` or
    /// `AWS_ENDPOINT` when one is set (a local stand-in), else AWS's regional endpoint.
    pub fn from_env(name: &str) -> Result<Self, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or("EVENT_BUS_URL sqs:// needs AWS_REGION")?;
        let endpoint = var("AWS_ENDPOINT_URL_SQS")
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .or_else(|| var("AWS_ENDPOINT"))
            .unwrap_or_else(|| format!("https://sqs.{region}.amazonaws.com"));
        // The S3 builder resolves the whole AWS credential chain; only that part is used.
        let chain = AmazonS3Builder::from_env()
            .with_config(AmazonS3ConfigKey::Region, &region)
            .with_bucket_name("credentials-only")
            .build()
            .map_err(|e| format!("AWS credentials for SQS: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SqsBus {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region,
            credentials: chain.credentials().clone(),
            queue: name.to_owned(),
            queue_url: OnceCell::new(),
        })
    }

    /// One signed JSON-protocol call, answering the response body.
    async fn call(&self, action: &str, body: Value) -> Result<Value, String> {
        let credential = self
            .credentials
            .get_credential()
            .await
            .map_err(|e| format!("AWS credentials: {e}"))?;
        let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .body(object_store::client::HttpRequestBody::from(body.clone()))
            .map_err(|e| e.to_string())?;
        AwsAuthorizer::new(&credential, "sqs", &self.region).authorize(&mut request, None);
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .headers(request.headers().clone())
            .body(body)
            .send()
            .await
            .map_err(|e| format!("SQS {action}: {e}"))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| format!("SQS {action} answered {status}: {e}"))?;
        if !status.is_success() {
            let kind = answer["__type"].as_str().unwrap_or("error");
            let message = answer["message"]
                .as_str()
                .or(answer["Message"].as_str())
                .unwrap_or("");
            return Err(format!("SQS {action} answered {status}: {kind} {message}"));
        }
        Ok(answer)
    }

    async fn queue_url(&self) -> Result<&str, String> {
        self.queue_url
            .get_or_try_init(|| async {
                let answer = self
                    .call("GetQueueUrl", json!({"QueueName": self.queue}))
                    .await?;
                answer["QueueUrl"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("GetQueueUrl for {} answered no URL", self.queue))
            })
            .await
            .map(String::as_str)
    }

    async fn send(&self, events: &[Outgoing]) -> Result<usize, (usize, String)> {
        let url = self.queue_url().await.map_err(|e| (0, e))?;
        let entries: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let mut attributes = json!({
                    "topic": {"DataType": "String", "StringValue": event.envelope.topic},
                });
                if let Some(trace) = &event.trace_parent {
                    attributes["traceparent"] = json!({"DataType": "String", "StringValue": trace});
                }
                json!({
                    "Id": i.to_string(),
                    "MessageBody": serde_json::to_string(&event.envelope).unwrap_or_default(),
                    "MessageGroupId": event.envelope.aggregate(),
                    "MessageDeduplicationId": event.envelope.id.to_string(),
                    "MessageAttributes": attributes,
                })
            })
            .collect();
        let answer = self
            .call(
                "SendMessageBatch",
                json!({"QueueUrl": url, "Entries": entries}),
            )
            .await
            .map_err(|e| (0, e))?;
        let sent: std::collections::HashSet<&str> = answer["Successful"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Id"].as_str())
            .collect();
        // Only the unbroken run from the first entry counts: the rest is sent again, and the
        // queue drops what it already holds by de-duplication id.
        let acked = (0..events.len())
            .take_while(|i| sent.contains(i.to_string().as_str()))
            .count();
        if acked == events.len() {
            return Ok(acked);
        }
        let failed = answer["Failed"]
            .as_array()
            .and_then(|f| f.first())
            .map(|f| {
                format!(
                    "{} {}",
                    f["Code"].as_str().unwrap_or(""),
                    f["Message"].as_str().unwrap_or("")
                )
            })
            .unwrap_or_else(|| "an entry was not acknowledged".to_owned());
        Err((acked, format!("SendMessageBatch: {failed}")))
    }
}

impl Publisher for SqsBus {
    async fn publish(&self, events: &[Outgoing]) -> Published {
        match self.send(events).await {
            Ok(acked) => Published { acked, error: None },
            Err((acked, error)) => Published {
                acked,
                error: Some(error),
            },
        }
    }

    fn window(&self) -> usize {
        WINDOW
    }

    fn kind(&self) -> &'static str {
        "sqs"
    }
}
