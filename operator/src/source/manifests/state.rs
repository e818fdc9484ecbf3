//! What manifests mode knows about each object: its last loaded spec, its
//! generation (bumped on each spec change, as an API server would), its
//! status and its next phase boundary; and the reconcile runs over them.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::PathBuf,
};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use liveops_domain::crd::{Event, EventPhase, Reward, SpecProblem};
use sqlx::PgPool;

use super::{
    documents::{Manifest, ManifestDirectory, ObjectKey, Origin, manifest_key},
    status_store,
    store_reconcile::{reconcile_event, reconcile_reward, report_problems},
    tracking::track,
};
use crate::{
    controller::failure_reason,
    error::Result,
    metrics::{Metrics, reward_ready_label},
    projection::{self, Kind},
    reconcile::{EventOutcome, RewardOutcome},
};

/// Reconciles in flight at once: enough to hide round trips, few enough to
/// leave pool connections for the API server.
const CONCURRENCY: usize = 16;

/// One loaded object and what its last reconcile decided.
pub struct Tracked<T> {
    /// The object as loaded, with the operator's generation and status.
    pub object: T,
    /// Where it was loaded from, for reports.
    pub origin: Origin,
    /// Its next phase boundary (Events).
    pub requeue_at: Option<DateTime<Utc>>,
    /// The last reconcile failed (e.g. database down): retried on resync.
    pub failed: bool,
    /// Why the latest loaded version was refused (it breaks a transition
    /// rule, see `tracking`): `object` is still the last accepted version.
    /// Empty when the loaded version is in force.
    pub refused: Vec<SpecProblem>,
    /// `object`'s spec took effect at its last reconcile. Only such a spec
    /// is held against edits: one that never did (its Event is missing, its
    /// reward's ledger belongs to another Event) leaves nothing to protect,
    /// so its file may simply be corrected.
    pub in_force: bool,
}

/// Every object loaded from the directory, and the database they go to.
pub struct ManifestState {
    dir: PathBuf,
    db: PgPool,
    directory: ManifestDirectory,
    events: BTreeMap<ObjectKey, Tracked<Event>>,
    rewards: BTreeMap<ObjectKey, Tracked<Reward>>,
    /// Statuses stored by an earlier run, consumed as objects are first seen;
    /// what is left after the first scan was deleted while the operator was down.
    restored: Option<HashMap<ObjectKey, serde_json::Value>>,
    /// Recorded as the cluster controllers record them, with the same labels.
    metrics: Metrics,
}

impl ManifestState {
    /// Starts empty, with the statuses an earlier run stored.
    pub async fn restore(dir: PathBuf, db: PgPool, metrics: Metrics) -> Result<Self> {
        let restored = status_store::load_all(&db).await?;
        Ok(Self {
            dir,
            db,
            directory: ManifestDirectory::default(),
            events: BTreeMap::new(),
            rewards: BTreeMap::new(),
            restored: Some(restored),
            metrics,
        })
    }

    /// The earliest instant an Event's phase changes.
    pub fn next_boundary(&self) -> Option<DateTime<Utc>> {
        self.events
            .values()
            .filter_map(|tracked| tracked.requeue_at)
            .min()
    }

    /// Re-reads the directory and reconciles what changed.
    pub async fn rescan(&mut self) {
        let (changed, problems) = match self.directory.rescan(&self.dir) {
            Ok(result) => result,
            Err(error) => {
                tracing::warn!(dir = %self.dir.display(), %error, "cannot read manifests directory");
                return;
            }
        };
        for problem in &problems {
            tracing::warn!(
                file = %problem.origin.file.display(),
                document = problem.origin.document,
                line = problem.origin.line,
                field = %problem.field,
                message = %problem.message,
                "invalid document skipped"
            );
        }
        if changed || self.restored.is_some() {
            self.apply_directory().await;
        }
    }

    /// Rewards re-read their counters, Events whose `claims_total` moved are
    /// reconciled, and failed reconciles are retried.
    pub async fn resync(&mut self) {
        // One query for every event's claim count; only events whose count
        // moved (or whose last reconcile failed) are reconciled again.
        let totals = match projection::live_claims_totals(&self.db).await {
            Ok(totals) => totals,
            Err(error) => {
                tracing::warn!(%error, "cannot read claim counts");
                Default::default()
            }
        };
        let events: Vec<_> = self
            .events
            .iter()
            .filter(|((_, namespace, name), tracked)| {
                let stored = tracked
                    .object
                    .status
                    .as_ref()
                    .and_then(|status| status.claims_total);
                let live = totals.get(&(namespace.clone(), name.clone())).copied();
                tracked.failed || (live.is_some() && live != stored)
            })
            .map(|(key, _)| key.clone())
            .collect();
        self.reconcile_events(events).await;
        let rewards: Vec<_> = self.rewards.keys().cloned().collect();
        self.reconcile_rewards(rewards).await;
    }

    /// Reconciles the Events whose boundary has come.
    pub async fn reconcile_due(&mut self, now: DateTime<Utc>) {
        let due: Vec<_> = self
            .events
            .iter()
            .filter(|(_, tracked)| tracked.requeue_at.is_some_and(|at| at <= now))
            .map(|(key, _)| key.clone())
            .collect();
        self.reconcile_events(due).await;
    }

    /// Brings the tracked objects in line with the parsed directory.
    async fn apply_directory(&mut self) {
        let mut desired: BTreeMap<ObjectKey, (Origin, Manifest)> = BTreeMap::new();
        let mut held = BTreeSet::new();
        for file in self.directory.files() {
            held.extend(file.held.iter().cloned());
            for (origin, manifest) in &file.manifests {
                let key = manifest_key(manifest);
                if let Some((first, _)) = desired.get(&key) {
                    tracing::warn!(file = %origin.file.display(), document = origin.document, field = "metadata.name",
                        message = %format!("duplicate of {first}"), "invalid document skipped");
                    continue;
                }
                desired.insert(key, (origin.clone(), manifest.clone()));
            }
        }
        let mut restored = self.restored.take();
        let mut changed_events = Vec::new();
        let mut changed_rewards = Vec::new();
        for (key, (origin, manifest)) in desired.iter() {
            let stored = restored.as_mut().and_then(|restored| restored.remove(key));
            match manifest {
                Manifest::Event(event) => {
                    if track(&mut self.events, key, origin, event.as_ref(), stored) {
                        changed_events.push(key.clone());
                    }
                }
                Manifest::Reward(reward) => {
                    if track(&mut self.rewards, key, origin, reward.as_ref(), stored) {
                        changed_rewards.push(key.clone());
                    }
                }
            }
        }
        let gone = |key: &ObjectKey| !desired.contains_key(key) && !held.contains(key);
        let deleted_events: Vec<_> = self.events.keys().filter(|k| gone(k)).cloned().collect();
        let deleted_rewards: Vec<_> = self.rewards.keys().filter(|k| gone(k)).cloned().collect();

        self.reconcile_events(changed_events.clone()).await;
        for key in &deleted_events {
            if self.events.remove(key).is_some() {
                self.delete(key).await;
            }
        }
        // Deleted while the operator was down: only their stored status is left.
        for key in restored
            .into_iter()
            .flat_map(|left| left.into_keys())
            .filter(|k| !held.contains(k))
        {
            self.delete(&key).await;
        }
        // Rewards of an Event that appeared, changed or went away see it now.
        let touched: BTreeSet<(String, String)> = changed_events
            .iter()
            .chain(&deleted_events)
            .map(|(_, namespace, name)| (namespace.clone(), name.clone()))
            .collect();
        for (key, tracked) in &self.rewards {
            let event = (key.1.clone(), tracked.object.spec.event_ref.name.clone());
            if touched.contains(&event) && !changed_rewards.contains(key) {
                changed_rewards.push(key.clone());
            }
        }
        self.reconcile_rewards(changed_rewards).await;
        for key in &deleted_rewards {
            if self.rewards.remove(key).is_some() {
                self.delete(key).await;
            }
        }
    }

    async fn delete(&self, key: &ObjectKey) {
        // A deletion is a reconcile too, as the cluster's finalizer cleanup is.
        let _timer = self.metrics.reconcile_started(key.0.as_str());
        // No longer tracked whatever the outcome, so no longer in the gauge.
        self.metrics.forget(key.0.as_str(), &metric_key(key));
        let result = async {
            let (kind, namespace, name) = key;
            match kind {
                Kind::Event => projection::soft_delete_event(&self.db, namespace, name).await?,
                Kind::Reward => projection::soft_delete_reward(&self.db, namespace, name).await?,
            }
            status_store::remove(&self.db, key).await
        }
        .await;
        match result {
            Ok(()) => {
                tracing::info!(kind = key.0.as_str(), namespace = %key.1, name = %key.2, "deleted: row soft-deleted")
            }
            Err(error) => {
                self.metrics
                    .reconcile_failed(key.0.as_str(), failure_reason(&error));
                tracing::warn!(kind = key.0.as_str(), namespace = %key.1, name = %key.2, %error, "soft delete failed")
            }
        }
    }

    async fn reconcile_events(&mut self, keys: Vec<ObjectKey>) {
        let now = Utc::now();
        let jobs: Vec<_> = keys
            .into_iter()
            .filter_map(|key| {
                let tracked = self.events.get(&key)?;
                Some((key, tracked.object.clone(), tracked.refused.clone()))
            })
            .collect();
        let (db, metrics) = (&self.db, &self.metrics);
        let results: Vec<(ObjectKey, Result<EventOutcome>)> = stream::iter(jobs)
            .map(|(key, event, refused)| async move {
                let _timer = metrics.reconcile_started(Kind::Event.as_str());
                let outcome = reconcile_event(db, &key, &event, &refused, now).await;
                (key, outcome)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (key, result) in results {
            let Some(tracked) = self.events.get_mut(&key) else {
                continue;
            };
            match result {
                Ok(outcome) => {
                    let phase = outcome.status.phase.unwrap_or(EventPhase::Invalid);
                    self.metrics
                        .set_phase(Kind::Event.as_str(), &metric_key(&key), phase.as_str());
                    if let Some((from, to)) = outcome.phase_change {
                        tracing::info!(namespace = %key.1, name = %key.2, from = ?from, to = %to, "event phase changed");
                    }
                    if tracked.object.status.as_ref() != Some(&outcome.status) {
                        report_problems(&tracked.origin, &outcome.problems);
                    }
                    tracked.object.status = Some(outcome.status);
                    tracked.requeue_at = outcome.requeue_at;
                    tracked.failed = false;
                    tracked.in_force = outcome.projected;
                }
                Err(error) => {
                    self.metrics
                        .reconcile_failed(Kind::Event.as_str(), failure_reason(&error));
                    tracing::warn!(namespace = %key.1, name = %key.2, %error, "event reconcile failed; retrying");
                    // Retried by the resync tick, not by a boundary timer
                    // that would fire again at once.
                    tracked.requeue_at = None;
                    tracked.failed = true;
                }
            }
        }
    }

    async fn reconcile_rewards(&mut self, keys: Vec<ObjectKey>) {
        let now = Utc::now();
        let jobs: Vec<_> = keys
            .into_iter()
            .filter_map(|key| {
                let tracked = self.rewards.get(&key)?;
                Some((key, tracked.object.clone(), tracked.refused.clone()))
            })
            .collect();
        let (db, metrics) = (&self.db, &self.metrics);
        let results: Vec<(ObjectKey, Result<RewardOutcome>)> = stream::iter(jobs)
            .map(|(key, reward, refused)| async move {
                let _timer = metrics.reconcile_started(Kind::Reward.as_str());
                let outcome = reconcile_reward(db, &key, &reward, &refused, now).await;
                (key, outcome)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (key, result) in results {
            let Some(tracked) = self.rewards.get_mut(&key) else {
                continue;
            };
            match result {
                Ok(outcome) => {
                    self.metrics.set_phase(
                        Kind::Reward.as_str(),
                        &metric_key(&key),
                        reward_ready_label(&outcome.status.conditions),
                    );
                    if tracked.object.status.as_ref() != Some(&outcome.status) {
                        report_problems(&tracked.origin, &outcome.problems);
                    }
                    tracked.object.status = Some(outcome.status);
                    tracked.failed = false;
                    tracked.in_force = outcome.projected;
                }
                Err(error) => {
                    self.metrics
                        .reconcile_failed(Kind::Reward.as_str(), failure_reason(&error));
                    tracing::warn!(namespace = %key.1, name = %key.2, %error, "reward reconcile failed; retrying");
                    tracked.failed = true;
                }
            }
        }
    }
}

/// `Kind/namespace/name`, the per-object key the cluster controllers give the
/// phase gauge.
fn metric_key((kind, namespace, name): &ObjectKey) -> String {
    format!("{}/{namespace}/{name}", kind.as_str())
}
