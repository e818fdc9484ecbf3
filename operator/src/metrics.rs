//! Prometheus metrics: reconciles, failures, durations, phases, how late
//! phase transitions land, and whether the database answers.
//!
//! Every label value is a fixed `&'static str` (kind, phase, failure
//! reason), never text derived from an error's `Debug` output, so the
//! number of series stays bounded.

mod stock;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use liveops_domain::crd::{ConditionStatus, StatusCondition};
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
use sqlx::PgPool;

pub use self::stock::StockCollector;

/// How long a scrape waits for the stock query before rendering without it.
const STOCK_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// `kind` label: which resource kind a series is about.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

/// Labels of the failure counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub kind: &'static str,
    pub reason: &'static str,
}

/// Labels of the phase gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub kind: &'static str,
    pub phase: &'static str,
}

/// `phase` label of the transition-lag histogram: the phase entered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnteredLabels {
    pub phase: &'static str,
}

/// The operator's metrics and the registry that exports them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    reconciles: Family<KindLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    phases: Family<PhaseLabels, Gauge>,
    transition_lag: Family<EnteredLabels, Histogram>,
    database_up: Gauge,
    stock: StockCollector,
    /// One scrape at a time loads, encodes and clears the stock rows.
    scrape: Arc<tokio::sync::Mutex<()>>,
    /// Last phase seen per object, so the gauge counts each object once.
    last_phase: Arc<Mutex<HashMap<(&'static str, String), &'static str>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates the metrics in a registry of their own.
    pub fn new() -> Self {
        // Prefix `liveops` only: the shared names (`liveops_database_up`)
        // are the same in every binary; the operator's own say `operator_`.
        let mut registry = Registry::with_prefix("liveops");
        let reconciles = Family::<KindLabels, Counter>::default();
        registry.register(
            "operator_reconciles",
            "Reconcile runs started",
            reconciles.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "operator_reconcile_failures",
            "Reconcile runs that failed, by cause",
            failures.clone(),
        );
        // 1 ms .. ~16 s: a reconcile is a few database round trips and API calls.
        let duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "operator_reconcile_duration_seconds",
            "Time spent in one reconcile",
            duration.clone(),
        );
        let phases = Family::<PhaseLabels, Gauge>::default();
        registry.register(
            "operator_objects",
            "Objects by kind and current phase",
            phases.clone(),
        );
        // 10 ms .. ~160 s: on time is well under a second; minutes mean trouble.
        let transition_lag = Family::<EnteredLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 15))
        });
        registry.register(
            "event_transition_lag_seconds",
            "From an Event's startsAt/endsAt to the phase timer storing the phase it entered",
            transition_lag.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the last database check (/readyz) succeeded",
            database_up.clone(),
        );
        let stock = StockCollector::default();
        registry.register_collector(Box::new(stock.clone()));
        Self {
            registry: Arc::new(registry),
            stock,
            scrape: Arc::default(),
            reconciles,
            failures,
            duration,
            phases,
            transition_lag,
            database_up,
            last_phase: Arc::default(),
        }
    }

    /// Counts a reconcile of `kind`; the returned timer records its duration when dropped.
    pub fn reconcile_started(&self, kind: &'static str) -> ReconcileTimer {
        self.reconciles.get_or_create(&KindLabels { kind }).inc();
        ReconcileTimer {
            histogram: self.duration.get_or_create(&KindLabels { kind }).clone(),
            started: Instant::now(),
        }
    }

    /// Counts a failed reconcile of `kind` with a fixed cause label.
    pub fn reconcile_failed(&self, kind: &'static str, reason: &'static str) {
        self.failures.get_or_create(&FailureLabels { kind, reason }).inc();
    }

    /// Number of reconciles of `kind` that failed with `reason`.
    #[cfg(test)]
    pub fn failures(&self, kind: &'static str, reason: &'static str) -> u64 {
        self.failures.get_or_create(&FailureLabels { kind, reason }).get()
    }

    /// Number of reconciles of `kind` started.
    #[cfg(test)]
    pub fn reconciles(&self, kind: &'static str) -> u64 {
        self.reconciles.get_or_create(&KindLabels { kind }).get()
    }

    /// Records that the object `key` of `kind` is now in `phase`.
    pub fn set_phase(&self, kind: &'static str, key: &str, phase: &'static str) {
        let Ok(mut last) = self.last_phase.lock() else {
            return;
        };
        let previous = last.insert((kind, key.to_owned()), phase);
        if previous == Some(phase) {
            return;
        }
        if let Some(previous) = previous {
            self.phases
                .get_or_create(&PhaseLabels {
                    kind,
                    phase: previous,
                })
                .dec();
        }
        self.phases.get_or_create(&PhaseLabels { kind, phase }).inc();
    }

    /// Forgets the object `key` of `kind` (it was deleted).
    pub fn forget(&self, kind: &'static str, key: &str) {
        let Ok(mut last) = self.last_phase.lock() else {
            return;
        };
        if let Some(previous) = last.remove(&(kind, key.to_owned())) {
            self.phases
                .get_or_create(&PhaseLabels {
                    kind,
                    phase: previous,
                })
                .dec();
        }
    }

    /// Records that the phase timer stored `phase` `lag_seconds` after the
    /// boundary that called for it.
    pub fn transition_landed(&self, phase: &'static str, lag_seconds: f64) {
        self.transition_lag
            .get_or_create(&EnteredLabels { phase })
            .observe(lag_seconds.max(0.0));
    }

    /// Records the outcome of a database check.
    pub fn record_database_check(&self, reachable: bool) {
        self.database_up.set(i64::from(reachable));
    }

    /// Objects of `kind` currently in `phase`.
    pub fn objects_in_phase(&self, kind: &'static str, phase: &'static str) -> i64 {
        self.phases.get_or_create(&PhaseLabels { kind, phase }).get()
    }

    /// [`render`](Self::render) with every Reward's stock read from `db`
    /// (what `/metrics` serves); without the stock when the query fails.
    pub async fn render_with_stock(&self, db: &PgPool) -> String {
        let _one_scrape = self.scrape.lock().await;
        match tokio::time::timeout(STOCK_QUERY_TIMEOUT, self.stock.load(db)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "metrics: cannot read reward stock"),
            Err(_) => tracing::warn!("metrics: reward stock query timed out"),
        }
        let text = self.render();
        self.stock.clear();
        text
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// The phase-gauge label of a Reward: Rewards have no phase, so the gauge
/// counts them by their Ready condition instead (both sources use this).
pub fn reward_ready_label(conditions: &[StatusCondition]) -> &'static str {
    let ready = conditions.iter().find(|condition| condition.type_ == "Ready");
    match ready.map(|ready| ready.status) {
        Some(ConditionStatus::True) => "Ready",
        Some(ConditionStatus::False) => "NotReady",
        Some(ConditionStatus::Unknown) | None => "Unknown",
    }
}

/// Observes a reconcile's duration when dropped, on success and failure alike.
pub struct ReconcileTimer {
    histogram: Histogram,
    started: Instant,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn phase_gauge_counts_each_object_once() {
        let metrics = Metrics::new();
        metrics.set_phase("Event", "ns/a", "Scheduled");
        metrics.set_phase("Event", "ns/a", "Scheduled");
        metrics.set_phase("Event", "ns/b", "Scheduled");
        metrics.set_phase("Event", "ns/a", "Active");
        assert_eq!(metrics.objects_in_phase("Event", "Scheduled"), 1);
        assert_eq!(metrics.objects_in_phase("Event", "Active"), 1);
        metrics.forget("Event", "ns/a");
        assert_eq!(metrics.objects_in_phase("Event", "Active"), 0);
    }

    #[test]
    fn renders_counters_failures_and_durations() {
        let metrics = Metrics::new();
        drop(metrics.reconcile_started("Reward"));
        metrics.reconcile_failed("Reward", "kube_api");
        let text = metrics.render();
        assert!(
            text.contains(r#"liveops_operator_reconciles_total{kind="Reward"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"liveops_operator_reconcile_failures_total{kind="Reward",reason="kube_api"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"liveops_operator_reconcile_duration_seconds_count{kind="Reward"} 1"#),
            "{text}"
        );
    }
}
