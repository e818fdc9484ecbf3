//! In-cluster controllers: finalizers, status via server-side apply, Kubernetes Events.
//!
//! One [`Context`] serves every kind, and one [`reconcile`] (`flow`) wraps
//! the source-agnostic core ([`crate::reconcile`]) of every kind in the
//! `liveops.dev/cleanup` finalizer: on apply it writes the desired status
//! (only when it changed) and records Kubernetes Events; on deletion it
//! soft-deletes the rows and lets the finalizer go. Each kind plugs in
//! through [`ReconciledKind`] (`event`, `reward`, `webhook_endpoint`,
//! `counter`, `ingest_client`).
//! [`error_policy`] logs, counts and requeues with backoff.

mod counter;
mod event;
mod flow;
mod ingest_client;
mod memo;
mod recorder;
mod reward;
pub(crate) mod status;
mod webhook_endpoint;

#[cfg(test)]
mod mock_api;
#[cfg(test)]
mod tests;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use kube::{
    Client, Resource, ResourceExt,
    runtime::{controller::Action, events::Reporter, finalizer},
};
use sqlx::PgPool;

pub use event::BOUNDARY_GRACE;
pub use flow::{ReconciledKind, reconcile};
pub use memo::ProjectionMemo;
pub use recorder::EventRecorder;

use crate::{error::Error, metrics::Metrics, phase_timer::PhaseTimer};

/// Finalizer that keeps a deleted object until its rows are soft-deleted.
pub const FINALIZER: &str = "liveops.dev/cleanup";
/// Field manager of the operator's server-side apply patches.
pub const FIELD_MANAGER: &str = "liveops-operator";
/// `reportingController` of the Kubernetes Events the operator records.
pub const REPORTING_CONTROLLER: &str = "liveops.dev/operator";

/// First retry delay after a failed reconcile; doubles per consecutive failure.
const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Longest retry delay after failures.
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// What every reconcile needs: the API client, the database, the Event
/// recorder and the metrics.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    pub db: PgPool,
    pub recorder: EventRecorder,
    pub metrics: Metrics,
    /// The clock phases are computed against: `Utc::now`, fixed in tests.
    pub clock: Clock,
    /// Where Event rows wait for their next boundary; the cluster source
    /// runs the task serving it.
    pub phase_timer: PhaseTimer,
    /// What this process projected last per object, to skip unchanged upserts.
    pub memo: ProjectionMemo,
    /// Consecutive failures per object (`Kind/namespace/name`), for backoff.
    failures: Arc<Mutex<HashMap<String, u32>>>,
}

/// Source of the current instant.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

impl Context {
    /// A context whose Events are reported as `instance` (the pod name).
    pub fn new(client: Client, db: PgPool, metrics: Metrics, instance: String) -> Self {
        let reporter = Reporter {
            controller: REPORTING_CONTROLLER.to_owned(),
            instance: Some(instance),
        };
        Self {
            recorder: EventRecorder::new(client.clone(), reporter),
            client,
            db,
            phase_timer: PhaseTimer::recording(metrics.clone()),
            metrics,
            clock: Arc::new(Utc::now),
            memo: ProjectionMemo::default(),
            failures: Arc::default(),
        }
    }

    /// Forgets the failures of `key` after a successful reconcile.
    fn succeeded(&self, key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }

    /// Counts one more failure of `key`; returns the delay before the retry.
    fn failed(&self, key: &str) -> Duration {
        let attempts = match self.failures.lock() {
            Ok(mut failures) => {
                let attempts = failures.entry(key.to_owned()).or_insert(0);
                *attempts = attempts.saturating_add(1);
                *attempts
            }
            Err(_) => 1,
        };
        backoff(attempts)
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

/// Delay before retry number `attempts` (1-based): 2 s, 4 s, 8 s, ... 5 min.
pub fn backoff(attempts: u32) -> Duration {
    let factor = 1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_MAX)
}

/// `base` plus up to as much again, fixed per object: periodic resyncs of
/// many objects spread out instead of firing together.
pub fn spread(base: Duration, key: &str) -> Duration {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    let per_mille = u32::try_from(hasher.finish() % 1000).unwrap_or(0);
    base + base * per_mille / 1000
}

/// `Kind/namespace/name`: the key of per-object state.
fn object_key<K: Resource<DynamicType = ()>>(object: &K) -> String {
    format!(
        "{}/{}/{}",
        K::kind(&()),
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

/// Logs a failed reconcile, counts it under a fixed cause label, and
/// schedules a retry with exponential backoff.
pub fn error_policy<K: ReconciledKind>(object: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    let key = object_key(object.as_ref());
    let reason = failure_reason(error);
    let delay = ctx.failed(&key);
    tracing::warn!(object = %key, reason, error = %error, retry_in = ?delay, "reconcile failed");
    ctx.metrics.reconcile_failed(K::KIND, reason);
    Action::requeue(delay)
}

/// A fixed, low-cardinality label for what went wrong.
pub fn failure_reason(error: &Error) -> &'static str {
    match error {
        Error::Database(_) => "database",
        Error::Kube(kube::Error::Api(status)) if status.code == 409 => "conflict",
        Error::Kube(kube::Error::Api(status)) if status.code >= 500 => "api_server",
        Error::Kube(_) => "kube_api",
        Error::Finalizer(inner) => match inner.as_ref() {
            finalizer::Error::ApplyFailed(error) | finalizer::Error::CleanupFailed(error) => {
                failure_reason(error)
            }
            finalizer::Error::AddFinalizer(_) => "add_finalizer",
            finalizer::Error::RemoveFinalizer(_) => "remove_finalizer",
            finalizer::Error::UnnamedObject | finalizer::Error::InvalidFinalizer => "finalizer",
        },
        Error::MissingMetadata(_) => "metadata",
        Error::LeaderElection(_) => "leader_election",
        // Manifest reading and (de)serialisation: rare, so they share a label.
        _ => "other",
    }
}

#[cfg(test)]
mod backoff_tests {
    use std::time::Duration;

    use super::backoff;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(9), Duration::from_secs(300));
        assert_eq!(backoff(200), Duration::from_secs(300));
    }
}
