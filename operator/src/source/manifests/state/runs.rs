//! Reconcile runs over tracked objects: batches of [`BATCH`] through the
//! shared reconcile, [`PARALLEL_BATCHES`] at a time, outcomes folded back
//! into what is tracked and Events handed to the phase timer.
//!
//! An outcome is only taken when the object still has the generation and
//! refusal it was reconciled with: an edit applied meanwhile has its own
//! run, whose outcome must not be overwritten by an older one.

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use liveops_domain::crd::{Event, EventPhase, Reward, SpecProblem};
use sqlx::PgPool;

use super::ManifestState;
use crate::{
    controller::failure_reason,
    error::Result,
    metrics::{Metrics, reward_ready_label},
    projection::Kind,
    reconcile::{EventOutcome, RewardOutcome, batch::BATCH},
    source::manifests::{
        object_key::ObjectKey,
        store_reconcile::{self, Job, report_problems},
        tracking::{Tracked, TrackedMap},
    },
};

/// Batches in flight at once: enough to keep both the operator and
/// PostgreSQL busy, few enough to leave pool connections for the API server.
const PARALLEL_BATCHES: usize = 4;

/// What a run reconciled an object as.
struct Snapshot {
    generation: Option<i64>,
    refused: Vec<SpecProblem>,
}

impl Snapshot {
    /// True when `tracked` is still what the run reconciled.
    fn matches<T: kube::Resource>(&self, tracked: &Tracked<T>) -> bool {
        tracked.object.meta().generation == self.generation && tracked.refused == self.refused
    }
}

impl ManifestState {
    /// Refreshes the statuses of Events the phase timer flipped: their rows
    /// already hold the new phase, so the batch writes statuses only.
    pub async fn refresh_flipped(&mut self, keys: Vec<ObjectKey>) {
        self.reconcile_events(keys).await;
    }

    /// Reconciles the Events under `keys` (unknown keys are skipped).
    pub(in crate::source::manifests) async fn reconcile_events(&mut self, mut keys: Vec<ObjectKey>) {
        keys.retain(|key| self.events.contains_key(key));
        let now = Utc::now();
        // In waves, each folded back before the next starts, so only one
        // wave's outcomes and statuses are in memory at once.
        for wave in keys.chunks(BATCH * PARALLEL_BATCHES) {
            let batches: Vec<_> = wave
                .chunks(BATCH)
                .map(|chunk| event_batch(&self.db, &self.metrics, &self.events, chunk, now))
                .collect();
            let results: Vec<_> = stream::iter(batches)
                .buffer_unordered(PARALLEL_BATCHES)
                .collect()
                .await;
            self.take_events_results(results);
        }
    }

    fn take_events_results(&mut self, results: Vec<BatchResult<EventOutcome>>) {
        for (keys, snapshots, result) in results {
            match result {
                Ok(outcomes) => {
                    for ((key, snapshot), outcome) in keys.iter().zip(snapshots).zip(outcomes) {
                        self.take_event_outcome(key, snapshot, outcome);
                    }
                }
                Err(error) => self.event_batch_failed(&keys, &error),
            }
        }
    }

    fn take_event_outcome(&mut self, key: &ObjectKey, snapshot: Snapshot, outcome: EventOutcome) {
        let Some(tracked) = self.events.get_mut(key) else {
            return;
        };
        if !snapshot.matches(tracked) {
            return;
        }
        let phase = outcome.status.phase.unwrap_or(EventPhase::Invalid);
        self.metrics
            .set_phase(Kind::Event.as_str(), &key.to_string(), phase.as_str());
        if let Some((from, to)) = outcome.phase_change {
            tracing::info!(namespace = %key.namespace, name = %key.name, from = ?from, to = %to, "event phase changed");
        }
        if tracked.object.status.as_ref() != Some(&outcome.status) {
            report_problems(&tracked.origin, &outcome.problems);
        }
        if let Some(id) = outcome.row_id {
            self.timer.schedule(id, outcome.requeue_at);
        }
        tracked.object.status = Some(outcome.status);
        tracked.failed = false;
        tracked.in_force = outcome.projected;
    }

    fn event_batch_failed(&mut self, keys: &[ObjectKey], error: &crate::Error) {
        tracing::warn!(events = keys.len(), %error, "event reconcile failed; retrying");
        for key in keys {
            self.metrics
                .reconcile_failed(Kind::Event.as_str(), failure_reason(error));
            if let Some(tracked) = self.events.get_mut(key) {
                // Retried by the next counters pass.
                tracked.failed = true;
            }
        }
    }

    /// Reconciles the Rewards under `keys` (unknown keys are skipped).
    pub(in crate::source::manifests) async fn reconcile_rewards(&mut self, mut keys: Vec<ObjectKey>) {
        keys.retain(|key| self.rewards.contains_key(key));
        let now = Utc::now();
        // In waves, each folded back before the next starts, so only one
        // wave's outcomes and statuses are in memory at once.
        for wave in keys.chunks(BATCH * PARALLEL_BATCHES) {
            let batches: Vec<_> = wave
                .chunks(BATCH)
                .map(|chunk| reward_batch(&self.db, &self.metrics, &self.rewards, chunk, now))
                .collect();
            let results: Vec<_> = stream::iter(batches)
                .buffer_unordered(PARALLEL_BATCHES)
                .collect()
                .await;
            self.take_rewards_results(results);
        }
    }

    fn take_rewards_results(&mut self, results: Vec<BatchResult<RewardOutcome>>) {
        for (keys, snapshots, result) in results {
            match result {
                Ok(outcomes) => {
                    for ((key, snapshot), outcome) in keys.iter().zip(snapshots).zip(outcomes) {
                        self.take_reward_outcome(key, snapshot, outcome);
                    }
                }
                Err(error) => self.reward_batch_failed(&keys, &error),
            }
        }
    }

    fn take_reward_outcome(&mut self, key: &ObjectKey, snapshot: Snapshot, outcome: RewardOutcome) {
        let Some(tracked) = self.rewards.get_mut(key) else {
            return;
        };
        if !snapshot.matches(tracked) {
            return;
        }
        self.metrics.set_phase(
            Kind::Reward.as_str(),
            &key.to_string(),
            reward_ready_label(&outcome.status.conditions),
        );
        if tracked.object.status.as_ref() != Some(&outcome.status) {
            report_problems(&tracked.origin, &outcome.problems);
        }
        tracked.object.status = Some(outcome.status);
        tracked.failed = false;
        tracked.in_force = outcome.projected;
    }

    fn reward_batch_failed(&mut self, keys: &[ObjectKey], error: &crate::Error) {
        tracing::warn!(rewards = keys.len(), %error, "reward reconcile failed; retrying");
        for key in keys {
            self.metrics
                .reconcile_failed(Kind::Reward.as_str(), failure_reason(error));
            if let Some(tracked) = self.rewards.get_mut(key) {
                tracked.failed = true;
            }
        }
    }
}

/// What one batch reconciled, as what, and how it went.
type BatchResult<O> = (Vec<ObjectKey>, Vec<Snapshot>, Result<Vec<O>>);

/// Jobs for the tracked objects among `chunk`, with their snapshots.
fn jobs_of<'a, T: kube::Resource>(
    tracked: &'a TrackedMap<T>,
    chunk: &'a [ObjectKey],
) -> (Vec<Job<'a, T>>, Vec<Snapshot>) {
    let jobs: Vec<Job<'a, T>> = chunk
        .iter()
        .filter_map(|key| {
            let tracked = tracked.get(key)?;
            Some(Job {
                key,
                object: &*tracked.object,
                refused: &tracked.refused,
            })
        })
        .collect();
    let snapshots = jobs
        .iter()
        .map(|job| Snapshot {
            generation: job.object.meta().generation,
            refused: job.refused.to_vec(),
        })
        .collect();
    (jobs, snapshots)
}

async fn event_batch(
    db: &PgPool,
    metrics: &Metrics,
    events: &TrackedMap<Event>,
    chunk: &[ObjectKey],
    now: DateTime<Utc>,
) -> BatchResult<EventOutcome> {
    let (jobs, snapshots) = jobs_of(events, chunk);
    let _timers: Vec<_> = jobs
        .iter()
        .map(|_| metrics.reconcile_started(Kind::Event.as_str()))
        .collect();
    let outcomes = store_reconcile::reconcile_events(db, &jobs, now).await;
    (
        jobs.iter().map(|job| job.key.clone()).collect(),
        snapshots,
        outcomes,
    )
}

async fn reward_batch(
    db: &PgPool,
    metrics: &Metrics,
    rewards: &TrackedMap<Reward>,
    chunk: &[ObjectKey],
    now: DateTime<Utc>,
) -> BatchResult<RewardOutcome> {
    let (jobs, snapshots) = jobs_of(rewards, chunk);
    let _timers: Vec<_> = jobs
        .iter()
        .map(|_| metrics.reconcile_started(Kind::Reward.as_str()))
        .collect();
    let outcomes = store_reconcile::reconcile_rewards(db, &jobs, now).await;
    (
        jobs.iter().map(|job| job.key.clone()).collect(),
        snapshots,
        outcomes,
    )
}
