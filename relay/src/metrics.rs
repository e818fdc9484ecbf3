//! Prometheus metrics, prefix `liveops_relay_` (DESIGN.md, "Event bus"),
//! plus `liveops_database_up`, named alike in every binary.
//!
//! Label values are fixed `&'static str`s (known event types, error
//! classes), so the number of series stays bounded whatever the outbox holds.

use std::sync::{Arc, Mutex, atomic::AtomicU64};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::outbox::OutboxStats;

/// Event types given their own label value; any other is `other`.
pub const KNOWN_TYPES: [&str; 3] = [
    "dev.liveops.reward.claimed",
    "dev.liveops.reward.sold_out",
    "dev.liveops.event.phase_changed",
];

/// `type` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabels {
    pub r#type: &'static str,
}

/// `class` label of the error counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabels {
    pub class: &'static str,
}

/// `outcome` label of webhook deliveries: delivered, failed (to be
/// retried), gave_up, gone (410), refused (SSRF guard), dropped (endpoint
/// deleted or disabled).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

/// The relay's metrics, cheap to clone (shared counters).
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    /// Unpublished outbox rows.
    pub pending_rows: Gauge,
    /// Age of the oldest unpublished row, in seconds.
    pub oldest_pending_age_seconds: Gauge<f64, AtomicU64>,
    /// Rows in outbox_dead_letters.
    pub dead_letter_rows: Gauge,
    /// Events acknowledged by the broker.
    pub published: Family<TypeLabels, Counter>,
    /// Acknowledged events the broker reported as duplicates (JetStream).
    pub duplicates: Family<TypeLabels, Counter>,
    /// Failures by class: connect, publish, timeout, refused, malformed, database.
    pub errors: Family<ClassLabels, Counter>,
    /// Rows moved to outbox_dead_letters.
    pub dead_lettered: Counter,
    /// From the row's write to the broker's ack, in seconds.
    pub commit_to_ack_seconds: Histogram,
    /// 1 while this replica holds the lock and publishes.
    pub leader: Gauge,
    /// 1 while this replica has a broker connection.
    pub broker_connected: Gauge,
    /// Webhook attempts by outcome.
    pub webhook_deliveries: Family<OutcomeLabels, Counter>,
    /// Duration of webhook requests, in seconds.
    pub webhook_request_seconds: Histogram,
    /// Webhook deliveries neither delivered nor given up.
    pub webhook_pending: Gauge,
    /// 1 when the last database check (/readyz) succeeded.
    pub database_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut root = Registry::with_prefix("liveops");
        let metrics = Self {
            registry: Arc::default(),
            pending_rows: Gauge::default(),
            oldest_pending_age_seconds: Gauge::default(),
            dead_letter_rows: Gauge::default(),
            published: Family::default(),
            duplicates: Family::default(),
            errors: Family::default(),
            dead_lettered: Counter::default(),
            // 1 ms .. ~65 s
            commit_to_ack_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 17)),
            leader: Gauge::default(),
            broker_connected: Gauge::default(),
            webhook_deliveries: Family::default(),
            // 5 ms .. ~40 s
            webhook_request_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            webhook_pending: Gauge::default(),
            database_up: Gauge::default(),
        };
        let m = &metrics;
        root.register(
            "database_up",
            "1 when the last database check succeeded",
            m.database_up.clone(),
        );
        let registry = root.sub_registry_with_prefix("relay");
        registry.register("pending_rows", "Unpublished outbox rows", m.pending_rows.clone());
        registry.register(
            "oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox row",
            m.oldest_pending_age_seconds.clone(),
        );
        registry.register(
            "dead_letter_rows",
            "Rows in outbox_dead_letters",
            m.dead_letter_rows.clone(),
        );
        registry.register(
            "published",
            "Events acknowledged by the broker",
            m.published.clone(),
        );
        registry.register(
            "duplicates",
            "Acknowledged events the broker had already stored",
            m.duplicates.clone(),
        );
        registry.register("errors", "Relay failures by class", m.errors.clone());
        registry.register(
            "dead_lettered",
            "Rows moved to outbox_dead_letters",
            m.dead_lettered.clone(),
        );
        registry.register(
            "commit_to_ack_seconds",
            "Time from the outbox row's write to the broker's acknowledgement",
            m.commit_to_ack_seconds.clone(),
        );
        registry.register("leader", "1 while this replica publishes", m.leader.clone());
        registry.register(
            "broker_connected",
            "1 while connected to the broker",
            m.broker_connected.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook attempts by outcome",
            m.webhook_deliveries.clone(),
        );
        registry.register(
            "webhook_request_seconds",
            "Duration of webhook requests",
            m.webhook_request_seconds.clone(),
        );
        registry.register(
            "webhook_pending",
            "Webhook deliveries neither delivered nor given up",
            m.webhook_pending.clone(),
        );
        *metrics
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = root;
        metrics
    }

    /// Counts a failure of `class`.
    pub fn error(&self, class: &'static str) {
        self.errors.get_or_create(&ClassLabels { class }).inc();
    }

    /// Counts a webhook attempt's `outcome`.
    pub fn webhook_outcome(&self, outcome: &'static str) {
        self.webhook_deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Sets the outbox gauges.
    pub fn set_stats(&self, stats: OutboxStats) {
        self.pending_rows.set(stats.pending);
        self.oldest_pending_age_seconds.set(stats.oldest_age_seconds);
        self.dead_letter_rows.set(stats.dead_letters);
        self.webhook_pending.set(stats.webhook_pending);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = encode(&mut out, &registry) {
            tracing::warn!(%error, "cannot encode metrics");
        }
        out
    }
}

/// The label value for `event_type`.
pub fn type_label(event_type: &str) -> &'static str {
    KNOWN_TYPES
        .into_iter()
        .find(|known| *known == event_type)
        .unwrap_or("other")
}
