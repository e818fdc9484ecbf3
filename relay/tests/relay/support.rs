//! What every relay test needs: broker URLs (failing fast and clearly when
//! a broker is absent), per-test names, outbox rows, a relay task, metric
//! reads, and waiting on a condition with a deadline.

use std::{future::Future, time::Duration};

use async_nats::jetstream;
use relay::{
    config::{CeMode, TransportKind},
    metrics::Metrics,
    publisher::{self, RelaySettings},
    transport::TransportSettings,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

/// The NATS server tests use.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// The RabbitMQ server tests use.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// `host:port` of a broker URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Fails the test at once, naming the variable, when nothing listens at
/// the broker's address: a missing broker must not look like a hang.
pub async fn require_broker(url: &str, variable: &str) {
    let address = host_port(url);
    let connect = tokio::net::TcpStream::connect(&address);
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => {}
        _ => panic!(
            "no broker answers at {address} ({variable}); run the tests with scripts/test, which starts one"
        ),
    }
}

/// A name unique to this test, usable as a subject token and stream name.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// Relay settings for tests: fast polls, short backoff, 3 attempts, and
/// the default retention (0: rows deleted at their ack).
pub fn settings(
    database_url: &str,
    kind: TransportKind,
    url: &str,
    prefix: &str,
    name: &str,
) -> RelaySettings {
    RelaySettings {
        database_url: database_url.to_owned(),
        transport: TransportSettings {
            kind,
            url: url.to_owned(),
            nats_stream: name.to_owned(),
            amqp_exchange: name.to_owned(),
            subject_prefix: prefix.to_owned(),
            ce_mode: CeMode::Binary,
            ack_timeout: Duration::from_secs(2),
        },
        batch_size: 100,
        poll_interval: Duration::from_millis(20),
        max_attempts: 3,
        retention: Duration::ZERO,
        backoff_max: Duration::from_millis(500),
        standby_poll: Duration::from_millis(200),
    }
}

/// A relay running as a task of this test.
pub struct RunningRelay {
    pub metrics: Metrics,
    pub task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl RunningRelay {
    /// Starts the relay loop.
    pub fn start(settings: RelaySettings) -> Self {
        let metrics = Metrics::new();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(publisher::run(settings, metrics.clone(), stopped));
        Self { metrics, task, stop }
    }

    /// Asks it to stop after its batch in flight and waits.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("relay stops")
            .expect("no panic");
    }
}

/// The value of the first line of `metrics`' text starting with `series`.
pub fn metric(metrics: &Metrics, series: &str) -> f64 {
    metrics
        .render()
        .lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// Inserts an outbox row of `event_type` for Event `event_id`, written as
/// the claim statement writes its rows; returns the CloudEvents id.
pub async fn insert_row(db: &PgPool, event_type: &str, event_id: Uuid, data: Value) -> String {
    let id = Uuid::new_v4().to_string();
    let mut data = data;
    data["eventId"] = json!(event_id);
    let payload = json!({
        "specversion": "1.0", "id": id, "source": "/liveops/events/default/test",
        "type": event_type, "time": chrono::Utc::now(), "subject": "test-reward",
        "datacontenttype": "application/json", "data": data,
    });
    sqlx::query("insert into outbox (event_type, payload) values ($1, $2)")
        .bind(event_type)
        .bind(payload)
        .execute(db)
        .await
        .expect("insert outbox row");
    id
}

/// Unpublished rows left in the outbox.
pub async fn pending(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from outbox where published_at is null")
        .fetch_one(db)
        .await
        .expect("count pending")
}

/// Waits until `condition` holds, polling; panics with `what` at the deadline.
pub async fn wait_until<F, Fut>(deadline: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = tokio::time::Instant::now();
    while !condition().await {
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A JetStream context on the test NATS server.
pub async fn jetstream() -> jetstream::Context {
    let url = nats_url();
    require_broker(&url, "NATS_URL").await;
    let client = async_nats::connect(url.as_str()).await.expect("connect to NATS");
    jetstream::new(client)
}

/// Every message of `stream`, in stream order.
pub async fn stream_messages(
    js: &jetstream::Context,
    stream: &str,
) -> Vec<jetstream::message::StreamMessage> {
    let mut found = js.get_stream(stream).await.expect("stream exists");
    let last = found.info().await.expect("stream info").state.last_sequence;
    let mut messages = Vec::new();
    for sequence in 1..=last {
        if let Ok(message) = found.get_raw_message(sequence).await {
            messages.push(message);
        }
    }
    messages
}

/// Number of messages stored in `stream`.
pub async fn stream_count(js: &jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut found) => found.info().await.map(|info| info.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// The `data` of a parsed CloudEvent as JSON, whichever way the parser
/// kept it (the binary-mode parser keeps bytes).
pub fn json_data(event: &cloudevents::Event) -> Value {
    match event.data() {
        Some(cloudevents::Data::Json(value)) => value.clone(),
        Some(cloudevents::Data::Binary(bytes)) => serde_json::from_slice(bytes).expect("data is JSON"),
        Some(cloudevents::Data::String(text)) => serde_json::from_str(text).expect("data is JSON"),
        None => panic!("the event has no data"),
    }
}
