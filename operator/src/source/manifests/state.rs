//! What manifests mode knows about each object: its last loaded spec, its
//! generation (bumped on each spec change, as an API server would) and its
//! status; loading the directory into it. The reconcile runs are in
//! [`runs`] ([`webhooks`] for WebhookEndpoints, [`challenges`] for Counters
//! and IngestClients), the change-driven status passes in `counters`.

mod challenges;
mod runs;
mod webhooks;

use self::webhooks::load_secret;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use k8s_openapi::api::core::v1::Secret;
use liveops_domain::crd::{Counter, Event, IngestClient, Reward, WebhookEndpoint};
use sqlx::PgPool;

use super::{
    documents::{Manifest, ManifestDirectory, Origin, manifest_key},
    object_key::ObjectKey,
    status_store,
    tracking::{TrackedMap, track},
};
use crate::{
    controller::failure_reason,
    error::Result,
    metrics::Metrics,
    phase_timer::PhaseTimer,
    projection::{self, Kind},
};

/// A Secret document as loaded, and where from.
pub struct LoadedSecret {
    pub secret: Box<Secret>,
    pub origin: Origin,
}

/// Every object loaded from the directory, and the database they go to.
pub struct ManifestState {
    dir: PathBuf,
    db: PgPool,
    directory: ManifestDirectory,
    pub(super) events: TrackedMap<Event>,
    pub(super) rewards: TrackedMap<Reward>,
    pub(super) webhooks: TrackedMap<WebhookEndpoint>,
    pub(super) counters: TrackedMap<Counter>,
    pub(super) ingest_clients: TrackedMap<IngestClient>,
    /// `v1` Secrets of the directory, for the signing secrets webhooks name.
    pub(super) secrets: BTreeMap<ObjectKey, LoadedSecret>,
    /// Statuses stored by an earlier run, consumed as objects are first seen;
    /// what is left after the first scan was deleted while the operator was down.
    restored: Option<HashMap<ObjectKey, serde_json::Value>>,
    /// Recorded as the cluster controllers record them, with the same labels.
    metrics: Metrics,
    /// Where each Event row waits for its next boundary.
    timer: PhaseTimer,
    /// Where the slow safety-net resync stands (see `counters`).
    pub(super) safety_cursor: Option<ObjectKey>,
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
            webhooks: BTreeMap::new(),
            counters: BTreeMap::new(),
            ingest_clients: BTreeMap::new(),
            secrets: BTreeMap::new(),
            restored: Some(restored),
            timer: PhaseTimer::recording(metrics.clone()),
            metrics,
            safety_cursor: None,
        })
    }

    /// The due-queue the loaded Events wait in, for the timer task to serve.
    pub fn timer(&self) -> PhaseTimer {
        self.timer.clone()
    }

    /// The database the state projects into.
    pub(super) fn db(&self) -> &PgPool {
        &self.db
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

    /// Brings the tracked objects in line with the parsed directory: the
    /// objects of the files just parsed move into what is tracked (one copy
    /// of each object, not one more in the directory's cache).
    async fn apply_directory(&mut self) {
        let mut fresh = self.directory.take_fresh();
        // Borrowed from the directory's index, not cloned: 40,000 keys.
        let (owners, held) = owners(&self.directory, &fresh);
        // A key whose owning file was not just parsed and whose tracked copy
        // came from elsewhere (a duplicate taking over): parse that file again.
        let reread: BTreeSet<PathBuf> = owners
            .iter()
            .filter(|(key, path)| {
                !fresh.contains_key(**path) && self.origin_file(key) != Some(path.as_path())
            })
            .map(|(_, path)| (*path).clone())
            .collect();
        for path in reread {
            let manifests = self.directory.parse_again(&path);
            fresh.insert(path, manifests);
        }
        let mut restored = self.restored.take();
        let mut changed_events = Vec::new();
        let mut changed_rewards = Vec::new();
        let mut changed_webhooks = BTreeSet::new();
        let mut changed_secrets = BTreeSet::new();
        let mut changed_counters = BTreeSet::new();
        let mut changed_clients = Vec::new();
        for (path, manifests) in fresh {
            for (origin, manifest) in manifests {
                let key = manifest_key(&manifest);
                if owners.get(&key).copied() != Some(&path) {
                    continue;
                }
                let stored = restored.as_mut().and_then(|restored| restored.remove(&key));
                let changed = match manifest {
                    Manifest::Event(event) => track(&mut self.events, &key, origin, event, stored),
                    Manifest::Reward(reward) => track(&mut self.rewards, &key, origin, reward, stored),
                    Manifest::WebhookEndpoint(endpoint) => {
                        track(&mut self.webhooks, &key, origin, endpoint, stored)
                    }
                    Manifest::Counter(counter) => track(&mut self.counters, &key, origin, counter, stored),
                    Manifest::IngestClient(client) => {
                        track(&mut self.ingest_clients, &key, origin, client, stored)
                    }
                    Manifest::Secret(secret) => load_secret(&mut self.secrets, &key, origin, secret),
                };
                match (changed, key.kind) {
                    (true, Kind::Event) => changed_events.push(key),
                    (true, Kind::Reward) => changed_rewards.push(key),
                    (true, Kind::WebhookEndpoint) => {
                        changed_webhooks.insert(key);
                    }
                    (true, Kind::Secret) => {
                        changed_secrets.insert(key);
                    }
                    (true, Kind::Counter) => {
                        changed_counters.insert(key);
                    }
                    (true, Kind::IngestClient) => changed_clients.push(key),
                    (false, _) => {}
                }
            }
        }
        let gone = |key: &ObjectKey| !owners.contains_key(key) && !held.contains(key);
        let deleted_events: Vec<_> = self.events.keys().filter(|k| gone(k)).cloned().collect();
        let deleted_rewards: Vec<_> = self.rewards.keys().filter(|k| gone(k)).cloned().collect();
        let deleted_webhooks: Vec<_> = self.webhooks.keys().filter(|k| gone(k)).cloned().collect();
        let deleted_secrets: Vec<_> = self.secrets.keys().filter(|k| gone(k)).cloned().collect();
        let deleted_counters: Vec<_> = self.counters.keys().filter(|k| gone(k)).cloned().collect();
        let deleted_clients: Vec<_> = self.ingest_clients.keys().filter(|k| gone(k)).cloned().collect();
        // Deleted while the operator was down: only their stored status is left.
        let vanished: Vec<ObjectKey> = restored
            .into_iter()
            .flat_map(|left| left.into_keys())
            .filter(|key| !held.contains(key))
            .collect();

        self.reconcile_events(changed_events.clone()).await;
        for key in &deleted_events {
            if self.events.remove(key).is_some() {
                self.cleanup(key).await;
            }
        }
        for key in vanished {
            self.cleanup(&key).await;
        }
        // Rewards of an Event that appeared, changed or went away see it now.
        let touched: BTreeSet<(String, String)> = changed_events
            .iter()
            .chain(&deleted_events)
            .map(ObjectKey::namespaced_name)
            .collect();
        let mut changed_rewards: BTreeSet<ObjectKey> = changed_rewards.into_iter().collect();
        changed_counters.extend(self.counters_under(&touched));
        if !touched.is_empty() {
            for (key, tracked) in &self.rewards {
                let event = (key.namespace.clone(), tracked.object.spec.event_ref.name.clone());
                if touched.contains(&event) {
                    changed_rewards.insert(key.clone());
                }
            }
        }
        self.reconcile_rewards(changed_rewards.into_iter().collect())
            .await;
        for key in &deleted_rewards {
            if self.rewards.remove(key).is_some() {
                self.cleanup(key).await;
            }
        }
        for key in &deleted_secrets {
            self.secrets.remove(key);
        }
        changed_secrets.extend(deleted_secrets);
        // Endpoints whose Secret appeared, changed or went away see it now.
        changed_webhooks.extend(self.webhooks_naming(&changed_secrets));
        self.reconcile_webhook_endpoints(changed_webhooks.into_iter().collect())
            .await;
        for key in &deleted_webhooks {
            if self.webhooks.remove(key).is_some() {
                self.cleanup(key).await;
            }
        }
        self.reconcile_counters(changed_counters.into_iter().collect())
            .await;
        for key in &deleted_counters {
            if self.counters.remove(key).is_some() {
                self.cleanup(key).await;
            }
        }
        self.reconcile_ingest_clients(changed_clients).await;
        for key in &deleted_clients {
            if self.ingest_clients.remove(key).is_some() {
                self.cleanup(key).await;
            }
        }
    }

    /// The file the tracked copy of `key` was loaded from.
    fn origin_file(&self, key: &ObjectKey) -> Option<&Path> {
        match key.kind {
            Kind::Event => self.events.get(key).map(|tracked| &*tracked.origin.file),
            Kind::Reward => self.rewards.get(key).map(|tracked| &*tracked.origin.file),
            Kind::WebhookEndpoint => self.webhooks.get(key).map(|tracked| &*tracked.origin.file),
            Kind::Counter => self.counters.get(key).map(|tracked| &*tracked.origin.file),
            Kind::IngestClient => self.ingest_clients.get(key).map(|tracked| &*tracked.origin.file),
            Kind::Secret => self.secrets.get(key).map(|loaded| &*loaded.origin.file),
        }
    }

    async fn cleanup(&self, key: &ObjectKey) {
        // A deletion is a reconcile too, as the cluster's finalizer cleanup is.
        let _timer = self.metrics.reconcile_started(key.kind.as_str());
        // No longer tracked whatever the outcome, so no longer in the gauge.
        self.metrics.forget(key.kind.as_str(), &key.to_string());
        let result = async {
            let (namespace, name) = (&key.namespace, &key.name);
            match key.kind {
                Kind::Event => projection::soft_delete_event(&self.db, namespace, name).await?,
                Kind::Reward => projection::soft_delete_reward(&self.db, namespace, name).await?,
                Kind::WebhookEndpoint => {
                    projection::soft_delete_webhook_endpoint(&self.db, namespace, name).await?
                }
                Kind::Counter => projection::soft_delete_counter(&self.db, namespace, name).await?,
                Kind::IngestClient => {
                    projection::soft_delete_ingest_client(&self.db, namespace, name).await?
                }
                // Never tracked as an object with a row or a status.
                Kind::Secret => return Ok(()),
            }
            status_store::remove(&self.db, key).await
        }
        .await;
        match result {
            Ok(()) => {
                tracing::info!(kind = key.kind.as_str(), namespace = %key.namespace, name = %key.name, "deleted: row soft-deleted")
            }
            Err(error) => {
                self.metrics
                    .reconcile_failed(key.kind.as_str(), failure_reason(&error));
                tracing::warn!(kind = key.kind.as_str(), namespace = %key.namespace, name = %key.name, %error, "soft delete failed")
            }
        }
    }
}

/// Which file declares each object (the first in path order; later
/// duplicates are reported when their file was just parsed), and the
/// objects held by documents that failed to parse.
fn owners<'a>(
    directory: &'a ManifestDirectory,
    fresh: &BTreeMap<PathBuf, Vec<(Origin, Manifest)>>,
) -> (BTreeMap<&'a ObjectKey, &'a PathBuf>, BTreeSet<&'a ObjectKey>) {
    let mut owners: BTreeMap<&ObjectKey, &PathBuf> = BTreeMap::new();
    let mut held = BTreeSet::new();
    for (path, file) in directory.files() {
        held.extend(file.held.iter());
        for key in &file.keys {
            match owners.get(key) {
                Some(first) if fresh.contains_key(path) => tracing::warn!(
                    file = %path.display(), field = "metadata.name",
                    message = %format!("duplicate of {} in {}", key.name, first.display()),
                    "invalid document skipped"
                ),
                Some(_) => {}
                None => {
                    owners.insert(key, path);
                }
            }
        }
    }
    (owners, held)
}
