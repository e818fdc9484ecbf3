//! What the WebhookEndpoint brings to the shared flow: the Secret its
//! `secretRef` names, read at each reconcile; the relay's delivery health in
//! its status; and a spread-out safety-net requeue.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, runtime::controller::Action};
use liveops_domain::crd::{StatusCondition, WebhookEndpoint, WebhookEndpointStatus};
use sqlx::PgPool;

use super::{Context, flow::ReconciledKind, object_key, spread, status::namespace_of};
use crate::{
    error::Result,
    reconcile::{
        SAFETY_RESYNC,
        webhook::{self, WebhookOutcome},
        webhook_secret::signing_secret,
    },
};

impl ReconciledKind for WebhookEndpoint {
    const KIND: &'static str = "WebhookEndpoint";
    type Outcome = WebhookOutcome;

    /// Projects it with its signing secret, or stops its row when the
    /// Secret is missing or unusable.
    async fn project(&self, ctx: &Context, now: DateTime<Utc>) -> Result<WebhookOutcome> {
        let namespace = namespace_of(self)?;
        let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
        let secret = secrets.get_opt(&self.spec.secret_ref.name).await?;
        let signing = signing_secret(secret.as_ref(), &self.spec.secret_ref, &namespace);
        webhook::reconcile_webhook_endpoint(&ctx.db, self, &signing, now).await
    }

    fn status_of(outcome: &WebhookOutcome) -> &WebhookEndpointStatus {
        &outcome.status
    }

    fn conditions(status: &WebhookEndpointStatus) -> &[StatusCondition] {
        &status.conditions
    }

    fn conditions_mut(status: &mut WebhookEndpointStatus) -> &mut Vec<StatusCondition> {
        &mut status.conditions
    }

    /// The safety net only: health changes wake the endpoint within seconds
    /// (`source::cluster::webhook_health`) and Secret changes through their
    /// watch.
    fn next_action(&self, _: &WebhookOutcome, _: DateTime<Utc>) -> Action {
        Action::requeue(spread(SAFETY_RESYNC, &object_key(self)))
    }

    async fn remove_rows(&self, db: &PgPool) -> Result<()> {
        webhook::cleanup_webhook_endpoint(db, self).await
    }
}
