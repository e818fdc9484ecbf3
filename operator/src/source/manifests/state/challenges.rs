//! Counters and IngestClients in manifests mode: each reconciled through the
//! shared reconcile (one at a time: they are few), its status stored in
//! `resource_status` like the other kinds', a refused edit of a Counter's
//! immutable fields shown as for Rewards, and the signal activity (and the
//! Rewards requiring each counter) mirrored into the statuses by every
//! counters pass.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use kube::core::object::HasStatus;
use liveops_domain::crd::{CounterStatus, IngestClientStatus, SpecProblem, StatusCondition};
use serde::Serialize;

use super::ManifestState;
use crate::{
    controller::{failure_reason, status::ready_condition},
    error::Result,
    metrics::{Metrics, reward_ready_label},
    projection::{self, CounterProjection},
    reconcile::{
        counter::{CounterOutcome, counter_outcome, reconcile_counter},
        ingest_client::{IngestClientOutcome, ingest_client_outcome, reconcile_ingest_client},
    },
    source::manifests::{
        object_key::ObjectKey,
        store_reconcile::{report_problems, show_refusal, store_changed},
        tracking::Tracked,
    },
};

/// What a reconcile or the activity mirror decided for one object, in the
/// shape both kinds share.
struct Decided<S> {
    status: S,
    problems: Vec<SpecProblem>,
    projected: bool,
}

impl From<CounterOutcome> for Decided<CounterStatus> {
    fn from(outcome: CounterOutcome) -> Self {
        Self {
            status: outcome.status,
            problems: outcome.problems,
            projected: outcome.projected,
        }
    }
}

impl From<IngestClientOutcome> for Decided<IngestClientStatus> {
    fn from(outcome: IngestClientOutcome) -> Self {
        Self {
            status: outcome.status,
            problems: outcome.problems,
            projected: outcome.projected,
        }
    }
}

/// The conditions of both kinds' statuses.
trait ChallengeStatus: Serialize + PartialEq {
    fn conditions(&self) -> &[StatusCondition];
    fn conditions_mut(&mut self) -> &mut Vec<StatusCondition>;
}

impl ChallengeStatus for CounterStatus {
    fn conditions(&self) -> &[StatusCondition] {
        &self.conditions
    }
    fn conditions_mut(&mut self) -> &mut Vec<StatusCondition> {
        &mut self.conditions
    }
}

impl ChallengeStatus for IngestClientStatus {
    fn conditions(&self) -> &[StatusCondition] {
        &self.conditions
    }
    fn conditions_mut(&mut self) -> &mut Vec<StatusCondition> {
        &mut self.conditions
    }
}

impl ManifestState {
    /// The Counters whose `eventRef` names one of `events` `(namespace, name)`.
    pub(super) fn counters_under(&self, events: &BTreeSet<(String, String)>) -> Vec<ObjectKey> {
        self.counters
            .iter()
            .filter(|(key, tracked)| {
                events.contains(&(key.namespace.clone(), tracked.object.spec.event_ref.name.clone()))
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Reconciles the Counters under `keys` (unknown keys are skipped).
    pub(in crate::source::manifests) async fn reconcile_counters(&mut self, keys: Vec<ObjectKey>) {
        for key in keys {
            let Some(tracked) = self.counters.get(&key) else {
                continue;
            };
            let _timer = self.metrics.reconcile_started(key.kind.as_str());
            let now = Utc::now();
            let result = match reconcile_counter(&self.db, &tracked.object, now).await {
                Ok(outcome) => {
                    self.store_decided(&key, tracked, Decided::from(outcome), now)
                        .await
                }
                Err(error) => Err(error),
            };
            let generation = tracked.object.metadata.generation;
            take(
                &self.metrics,
                &key,
                self.counters.get_mut(&key),
                generation,
                result,
            );
        }
    }

    /// Reconciles the IngestClients under `keys` (unknown keys are skipped).
    pub(in crate::source::manifests) async fn reconcile_ingest_clients(&mut self, keys: Vec<ObjectKey>) {
        for key in keys {
            let Some(tracked) = self.ingest_clients.get(&key) else {
                continue;
            };
            let _timer = self.metrics.reconcile_started(key.kind.as_str());
            let now = Utc::now();
            let result = match reconcile_ingest_client(&self.db, &tracked.object, now).await {
                Ok(outcome) => {
                    self.store_decided(&key, tracked, Decided::from(outcome), now)
                        .await
                }
                Err(error) => Err(error),
            };
            let generation = tracked.object.metadata.generation;
            take(
                &self.metrics,
                &key,
                self.ingest_clients.get_mut(&key),
                generation,
                result,
            );
        }
    }

    /// Shows a refused edit on the decided status and stores it when it changed.
    async fn store_decided<T, S>(
        &self,
        key: &ObjectKey,
        tracked: &Tracked<T>,
        mut decided: Decided<S>,
        now: DateTime<Utc>,
    ) -> Result<Decided<S>>
    where
        T: kube::Resource + HasStatus<Status = S>,
        S: ChallengeStatus,
    {
        show_refusal(
            decided.status.conditions_mut(),
            &mut decided.problems,
            tracked.object.status().map(ChallengeStatus::conditions),
            &tracked.refused,
            tracked.object.meta().generation,
            now,
        );
        if tracked.object.status() != Some(&decided.status) {
            let stored = [(key.clone(), serde_json::to_string(&decided.status)?)];
            store_changed(key.kind.as_str(), &self.db, &stored).await?;
        }
        Ok(decided)
    }

    /// Retries the Counters and IngestClients whose last reconcile failed.
    pub(in crate::source::manifests) async fn retry_failed_challenges(&mut self) {
        let counters = failed(&self.counters);
        self.reconcile_counters(counters).await;
        let clients = failed(&self.ingest_clients);
        self.reconcile_ingest_clients(clients).await;
    }

    /// Every Counter and IngestClient through the full reconcile (the safety net).
    pub(in crate::source::manifests) async fn resync_challenges(&mut self) {
        let counters: Vec<_> = self.counters.keys().cloned().collect();
        self.reconcile_counters(counters).await;
        let clients: Vec<_> = self.ingest_clients.keys().cloned().collect();
        self.reconcile_ingest_clients(clients).await;
    }

    /// Copies the signal activity (one read per kind of every live row)
    /// into the statuses of the projected objects whose activity moved.
    pub(in crate::source::manifests) async fn mirror_activity(&mut self) -> Result<()> {
        let now = Utc::now();
        if !self.counters.is_empty() {
            let activity = projection::counter_activity(&self.db, None, None).await?;
            let mut results = Vec::new();
            for (key, tracked) in self.counters.iter().filter(|(_, t)| t.in_force && !t.failed) {
                let Some(live) = activity.get(&key.namespaced_name()) else {
                    continue;
                };
                let projected = Some(CounterProjection::Projected);
                let outcome =
                    counter_outcome(&tracked.object, projected, Vec::new(), Some(live.clone()), now);
                let decided = Decided::from(outcome);
                let generation = tracked.object.metadata.generation;
                results.push((
                    key.clone(),
                    generation,
                    self.store_decided(key, tracked, decided, now).await,
                ));
            }
            for (key, generation, result) in results {
                take(
                    &self.metrics,
                    &key,
                    self.counters.get_mut(&key),
                    generation,
                    result,
                );
            }
        }
        if !self.ingest_clients.is_empty() {
            let activity = projection::ingest_client_activity(&self.db, None, None).await?;
            let mut results = Vec::new();
            for (key, tracked) in self
                .ingest_clients
                .iter()
                .filter(|(_, t)| t.in_force && !t.failed)
            {
                let Some(live) = activity.get(&key.namespaced_name()) else {
                    continue;
                };
                let outcome = ingest_client_outcome(&tracked.object, Vec::new(), Some(live.clone()), now);
                let decided = Decided::from(outcome);
                let generation = tracked.object.metadata.generation;
                results.push((
                    key.clone(),
                    generation,
                    self.store_decided(key, tracked, decided, now).await,
                ));
            }
            for (key, generation, result) in results {
                take(
                    &self.metrics,
                    &key,
                    self.ingest_clients.get_mut(&key),
                    generation,
                    result,
                );
            }
        }
        Ok(())
    }
}

/// Folds a reconcile's result back into `tracked`, unless it was edited
/// meanwhile; counts a failure for the retry of the next pass.
fn take<T, S>(
    metrics: &Metrics,
    key: &ObjectKey,
    tracked: Option<&mut Tracked<T>>,
    generation: Option<i64>,
    result: Result<Decided<S>>,
) where
    T: kube::Resource + HasStatus<Status = S>,
    S: ChallengeStatus,
{
    let kind = key.kind;
    let Some(tracked) = tracked else {
        return;
    };
    match result {
        Ok(decided) => {
            if tracked.object.meta().generation != generation {
                return;
            }
            metrics.set_phase(
                kind.as_str(),
                &key.to_string(),
                reward_ready_label(decided.status.conditions()),
            );
            if tracked.object.status() != Some(&decided.status) {
                report_problems(&tracked.origin, &decided.problems);
                if let Some(ready) = ready_condition(decided.status.conditions()) {
                    tracing::info!(kind = kind.as_str(), namespace = %key.namespace, name = %key.name, ready = ?ready.status, reason = %ready.reason, message = %ready.message, "reconciled");
                }
            }
            *tracked.object.status_mut() = Some(decided.status);
            tracked.failed = false;
            tracked.in_force = decided.projected;
        }
        Err(error) => {
            tracing::warn!(kind = kind.as_str(), namespace = %key.namespace, name = %key.name, %error, "reconcile failed; retrying");
            metrics.reconcile_failed(kind.as_str(), failure_reason(&error));
            tracked.failed = true;
        }
    }
}

fn failed<T>(tracked: &crate::source::manifests::tracking::TrackedMap<T>) -> Vec<ObjectKey> {
    tracked
        .iter()
        .filter(|(_, tracked)| tracked.failed)
        .map(|(key, _)| key.clone())
        .collect()
}
