//! The real engines behind the event relay and the media store: a NATS server with
//! JetStream that a test owns (and may kill), an S3/SQS stand-in (`moto_server`, started by
//! the test command) and a TCP proxy that can drop every connection to simulate an outage.

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A free port on loopback, as the kernel hands one out.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `nats-server -js` on its own port and store directory, killed on drop.
pub struct NatsServer {
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    pub async fn start() -> Self {
        let store = std::env::temp_dir().join(format!("bazaar-nats-{}", uuid::Uuid::new_v4()));
        let mut server = NatsServer {
            port: free_port(),
            store,
            child: None,
        };
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port and store: what it had persisted is back.
    pub async fn resume(&mut self) {
        let binary = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".to_owned());
        let child = Command::new(&binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} (the test command installs it): {e}"));
        self.child = Some(child);
        wait_for_port(self.port, "nats-server").await;
    }

    /// SIGKILL: no goodbye to clients, as in a crashed node.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(self.url()).await.expect("nats client")
    }

    /// Every message in the stream, in stream order: (Nats-Msg-Id, subject, envelope).
    pub async fn stream(&self) -> Vec<(String, String, Value)> {
        let js = async_nats::jetstream::new(self.client().await);
        let mut stream = js
            .get_stream("BAZAAR_EVENTS")
            .await
            .expect("the stream exists");
        let last = stream
            .info()
            .await
            .expect("stream info")
            .state
            .last_sequence;
        let mut out = Vec::new();
        for seq in 1..=last {
            let m = stream.get_raw_message(seq).await.expect("message");
            let id = m
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.as_str().to_owned())
                .expect("every message carries its id");
            let body: Value = serde_json::from_slice(&m.payload).expect("a JSON envelope");
            out.push((id, m.subject.to_string(), body));
        }
        out
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// Forwards a local port to `upstream` until paused; pausing closes the listener and every
/// connection through it, so clients see a broker that is gone.
pub struct Proxy {
    pub port: u16,
    upstream: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let mut proxy = Proxy {
            port: free_port(),
            upstream,
            task: None,
        };
        proxy.resume().await;
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("proxy port");
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    pub async fn pause(&mut self) {
        if let Some(task) = self.task.take() {
            // Aborting the accept loop drops its JoinSet, which aborts every connection.
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The S3/SQS stand-in the test command starts (`moto_server`, from PyPI).
pub fn aws_endpoint() -> String {
    std::env::var("BAZAAR_TEST_AWS_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5055".into())
}

pub fn aws_addr() -> SocketAddr {
    let endpoint = aws_endpoint();
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    host.parse()
        .expect("BAZAAR_TEST_AWS_ENDPOINT is http://<ip>:<port>")
}

/// Points the process's AWS settings at `endpoint` with throwaway credentials; the S3 store
/// and the SQS adapter read the standard variables, as they would in a pod.
pub fn use_aws(endpoint: &str) {
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT", endpoint),
        ("AWS_ENDPOINT_URL_SQS", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
    ] {
        std::env::set_var(k, v);
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A fresh bucket on the stand-in.
pub async fn create_bucket() -> String {
    let bucket = unique("bazaar-media");
    let res = reqwest::Client::new()
        .put(format!("{}/{bucket}", aws_endpoint()))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "moto_server at {} (the test command starts it): {e}",
                aws_endpoint()
            )
        });
    assert!(res.status().is_success(), "create bucket: {}", res.status());
    bucket
}

/// The keys under `prefix` in `bucket`.
pub async fn list_keys(bucket: &str, prefix: &str) -> Vec<String> {
    let xml = reqwest::Client::new()
        .get(format!(
            "{}/{bucket}?list-type=2&prefix={prefix}",
            aws_endpoint()
        ))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("xml");
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

/// One SQS JSON-protocol call to the stand-in (which does not check signatures).
pub async fn sqs(action: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{}/", aws_endpoint()))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AmazonSQS.{action}"))
        // The stand-in routes by the credential scope; it checks no signature.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto_server at {}: {e}", aws_endpoint()));
    let status = res.status();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "SQS {action}: {status} {answer}");
    answer
}

/// A fresh FIFO queue: its name and URL.
pub async fn create_fifo_queue() -> (String, String) {
    let name = format!("{}.fifo", unique("bazaar-events"));
    let answer = sqs(
        "CreateQueue",
        json!({"QueueName": name, "Attributes": {"FifoQueue": "true"}}),
    )
    .await;
    let url = answer["QueueUrl"].as_str().expect("queue url").to_owned();
    (name, url)
}

/// Everything in the queue, received and deleted in delivery order: (dedup id, group,
/// envelope). A FIFO queue hands out a group's next message only once the one before is
/// deleted, so this reads the way a consumer would.
pub async fn drain_queue(url: &str) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let mut empty = 0;
    while empty < 2 {
        let answer = sqs(
            "ReceiveMessage",
            json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "AttributeNames": ["All"],
                   "MessageAttributeNames": ["All"], "VisibilityTimeout": 30}),
        )
        .await;
        let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        let mut receipts = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let body: Value =
                serde_json::from_str(m["Body"].as_str().expect("body")).expect("a JSON envelope");
            let attr = |k: &str| m["Attributes"][k].as_str().unwrap_or_default().to_owned();
            out.push((attr("MessageDeduplicationId"), attr("MessageGroupId"), body));
            receipts.push(json!({"Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"]}));
        }
        sqs(
            "DeleteMessageBatch",
            json!({"QueueUrl": url, "Entries": receipts}),
        )
        .await;
    }
    out
}
