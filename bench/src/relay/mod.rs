//! The relay benchmark's parts (`relay_bench`): the drain rate against a
//! raw publish (NATS JetStream and RabbitMQ), and commit-to-ack latency
//! under claim load (NATS). Both run the real relay loop in-process
//! against a real broker.

pub mod broker;
pub mod cpu;
pub mod drain;
pub mod latency;
pub mod raw;

use std::time::Duration;

use relay::{
    config::{CeMode, TransportKind},
    metrics::Metrics,
    publisher::{self, RelaySettings},
    transport::TransportSettings,
};
use tokio::{sync::watch, task::JoinHandle};

/// The relay's defaults (RELAY_POLL_INTERVAL_MS 50) but `batch_size`,
/// publishing under `prefix` to `stream`.
pub fn relay_settings(
    database_url: &str,
    kind: TransportKind,
    url: &str,
    prefix: &str,
    stream: &str,
    batch_size: i64,
) -> RelaySettings {
    RelaySettings {
        database_url: database_url.to_owned(),
        transport: TransportSettings {
            kind,
            url: url.to_owned(),
            nats_stream: stream.to_owned(),
            amqp_exchange: stream.to_owned(),
            subject_prefix: prefix.to_owned(),
            ce_mode: CeMode::Binary,
            ack_timeout: Duration::from_secs(10),
        },
        batch_size,
        poll_interval: Duration::from_millis(50),
        max_attempts: 10,
        // The relay's default (RELAY_RETENTION_SECONDS=0): removed at the ack.
        retention: Duration::ZERO,
        backoff_max: Duration::from_secs(5),
        standby_poll: Duration::from_millis(200),
    }
}

/// The relay loop running as a task.
pub struct RelayRun {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl RelayRun {
    /// Starts the loop.
    pub fn start(settings: RelaySettings) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(publisher::run(settings, Metrics::new(), stopped));
        Self { task, stop }
    }

    /// Stops it after its batch in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(15), self.task).await;
    }
}
