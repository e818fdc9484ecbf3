//! WebhookEndpoints in manifests mode: each reconciled with the signing
//! secret of the `v1` Secret document its `secretRef` names (same
//! namespace, anywhere in the directory), its status stored in
//! `resource_status` like the other kinds', and the relay's delivery health
//! mirrored into that status by every counters pass. Endpoints are few, so
//! they go one at a time rather than in batches.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use k8s_openapi::api::core::v1::Secret;
use liveops_domain::crd::WebhookEndpoint;

use super::{LoadedSecret, ManifestState};
use crate::{
    controller::{failure_reason, status::ready_condition},
    error::Result,
    metrics::reward_ready_label,
    projection::{self, Kind},
    reconcile::{
        webhook::{self, WebhookOutcome, WebhookProjection, webhook_outcome},
        webhook_secret::signing_secret,
    },
    source::manifests::{
        documents::Origin,
        object_key::ObjectKey,
        store_reconcile::{report_problems, store_changed},
    },
};

/// Records a loaded Secret in `secrets`; true when its content changed.
pub(super) fn load_secret(
    secrets: &mut BTreeMap<ObjectKey, LoadedSecret>,
    key: &ObjectKey,
    origin: Origin,
    secret: Box<Secret>,
) -> bool {
    if let Some(loaded) = secrets.get_mut(key) {
        loaded.origin = origin;
        if (&loaded.secret.data, &loaded.secret.string_data) == (&secret.data, &secret.string_data) {
            return false;
        }
        loaded.secret = secret;
        return true;
    }
    secrets.insert(key.clone(), LoadedSecret { secret, origin });
    true
}

impl ManifestState {
    /// The endpoints whose `secretRef` names one of `secrets`.
    pub(in crate::source::manifests) fn webhooks_naming(
        &self,
        secrets: &BTreeSet<ObjectKey>,
    ) -> Vec<ObjectKey> {
        self.webhooks
            .iter()
            .filter(|(key, tracked)| {
                let named = ObjectKey::new(
                    Kind::Secret,
                    key.namespace.clone(),
                    tracked.object.spec.secret_ref.name.clone(),
                );
                secrets.contains(&named)
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Reconciles the endpoints under `keys` (unknown keys are skipped).
    pub(in crate::source::manifests) async fn reconcile_webhook_endpoints(&mut self, keys: Vec<ObjectKey>) {
        for key in keys {
            let Some(tracked) = self.webhooks.get(&key) else {
                continue;
            };
            let _timer = self.metrics.reconcile_started(Kind::WebhookEndpoint.as_str());
            let generation = tracked.object.metadata.generation;
            match self.reconcile_webhook_endpoint(&key, &tracked.object).await {
                Ok(outcome) => self.take_webhook_outcome(&key, generation, outcome),
                Err(error) => {
                    tracing::warn!(namespace = %key.namespace, name = %key.name, %error, "webhook endpoint reconcile failed; retrying");
                    self.metrics
                        .reconcile_failed(Kind::WebhookEndpoint.as_str(), failure_reason(&error));
                    if let Some(tracked) = self.webhooks.get_mut(&key) {
                        tracked.failed = true;
                    }
                }
            }
        }
    }

    /// The shared reconcile with the secret from the directory, and the
    /// status stored when it changed.
    async fn reconcile_webhook_endpoint(
        &self,
        key: &ObjectKey,
        endpoint: &WebhookEndpoint,
    ) -> Result<WebhookOutcome> {
        let reference = &endpoint.spec.secret_ref;
        let secret_key = ObjectKey::new(Kind::Secret, key.namespace.clone(), reference.name.clone());
        let secret = self.secrets.get(&secret_key).map(|loaded| loaded.secret.as_ref());
        let signing = signing_secret(secret, reference, &key.namespace);
        let outcome = webhook::reconcile_webhook_endpoint(self.db(), endpoint, &signing, Utc::now()).await?;
        self.store_if_changed(key, endpoint, &outcome).await?;
        Ok(outcome)
    }

    async fn store_if_changed(
        &self,
        key: &ObjectKey,
        endpoint: &WebhookEndpoint,
        outcome: &WebhookOutcome,
    ) -> Result<()> {
        if endpoint.status.as_ref() == Some(&outcome.status) {
            return Ok(());
        }
        let stored = [(key.clone(), serde_json::to_string(&outcome.status)?)];
        store_changed(Kind::WebhookEndpoint.as_str(), self.db(), &stored).await
    }

    /// Folds an outcome back, unless the endpoint was edited meanwhile.
    fn take_webhook_outcome(&mut self, key: &ObjectKey, generation: Option<i64>, outcome: WebhookOutcome) {
        let Some(tracked) = self.webhooks.get_mut(key) else {
            return;
        };
        if tracked.object.metadata.generation != generation {
            return;
        }
        self.metrics.set_phase(
            Kind::WebhookEndpoint.as_str(),
            &key.to_string(),
            reward_ready_label(&outcome.status.conditions),
        );
        if tracked.object.status.as_ref() != Some(&outcome.status) {
            report_problems(&tracked.origin, &outcome.problems);
            if let Some(ready) = ready_condition(&outcome.status.conditions) {
                tracing::info!(namespace = %key.namespace, name = %key.name, ready = ?ready.status, reason = %ready.reason, message = %ready.message, "webhook endpoint");
            }
        }
        tracked.object.status = Some(outcome.status);
        tracked.failed = false;
        tracked.in_force = outcome.projected;
    }

    /// Retries the endpoints whose last reconcile failed.
    pub(in crate::source::manifests) async fn retry_failed_webhooks(&mut self) {
        let failed: Vec<_> = self
            .webhooks
            .iter()
            .filter(|(_, tracked)| tracked.failed)
            .map(|(key, _)| key.clone())
            .collect();
        self.reconcile_webhook_endpoints(failed).await;
    }

    /// Every endpoint through the full reconcile (the safety net).
    pub(in crate::source::manifests) async fn resync_webhooks(&mut self) {
        let keys: Vec<_> = self.webhooks.keys().cloned().collect();
        self.reconcile_webhook_endpoints(keys).await;
    }

    /// Copies the relay's delivery health (one read of every live row) into
    /// the statuses of the projected endpoints whose health moved.
    pub(in crate::source::manifests) async fn mirror_webhook_health(&mut self) -> Result<()> {
        if self.webhooks.is_empty() {
            return Ok(());
        }
        let health = projection::all_webhook_health(self.db(), None).await?;
        let now = Utc::now();
        let mut changed = Vec::new();
        for (key, tracked) in &self.webhooks {
            let Some(live) = health.get(&key.namespaced_name()) else {
                continue;
            };
            if !tracked.in_force || tracked.failed {
                continue;
            }
            let projected = WebhookProjection::Projected(live.clone());
            let outcome = webhook_outcome(&tracked.object, projected, Vec::new(), now);
            if tracked.object.status.as_ref() != Some(&outcome.status) {
                changed.push((key.clone(), outcome));
            }
        }
        let stored = changed
            .iter()
            .map(|(key, outcome)| Ok((key.clone(), serde_json::to_string(&outcome.status)?)))
            .collect::<Result<Vec<_>>>()?;
        store_changed("webhook health", self.db(), &stored).await?;
        for (key, outcome) in changed {
            let generation = self
                .webhooks
                .get(&key)
                .and_then(|tracked| tracked.object.metadata.generation);
            self.take_webhook_outcome(&key, generation, outcome);
        }
        Ok(())
    }
}
