//! The WebhookEndpoint controller's reconcile: reads the Secret its
//! `secretRef` names, projects it under the `liveops.dev/cleanup`
//! finalizer, and mirrors the relay's delivery health into its status.

use std::{sync::Arc, time::Duration};

use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, ResourceExt,
    runtime::{
        controller::Action,
        events::EventType,
        finalizer::{Event as Finalizer, finalizer},
    },
};
use liveops_domain::crd::{ConditionStatus, StatusCondition, WebhookEndpoint};

use super::{
    Context, FINALIZER, object_key, spread,
    status::{apply_status, database_unavailable, namespace_of, record},
};
use crate::{
    error::{Error, Result},
    metrics::reward_ready_label,
    reconcile::{
        webhook::{self, WebhookOutcome},
        webhook_secret::signing_secret,
    },
};

/// Metric and key label of the kind.
const KIND: &str = "WebhookEndpoint";

/// Safety-net resync. Health changes wake the endpoint within seconds
/// (`source::cluster::webhook_health`) and Secret changes through their
/// watch; this only covers a missed change.
const RESYNC: Duration = Duration::from_secs(600);

/// Reconciles one WebhookEndpoint: projects it with its signing secret (or
/// stops its row when the Secret is missing or unusable), writes status
/// with the delivery health; on deletion soft-deletes its row.
pub async fn reconcile_webhook_endpoint(endpoint: Arc<WebhookEndpoint>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_started(KIND);
    let key = object_key(endpoint.as_ref());
    let api: Api<WebhookEndpoint> = Api::namespaced(ctx.client.clone(), &namespace_of(endpoint.as_ref())?);
    let action = finalizer(&api, FINALIZER, endpoint, |step| async {
        match step {
            Finalizer::Apply(endpoint) => apply(&api, &endpoint, &ctx).await,
            Finalizer::Cleanup(endpoint) => cleanup(&endpoint, &ctx).await,
        }
    })
    .await
    .map_err(|error| Error::Finalizer(Box::new(error)))?;
    ctx.succeeded(&key);
    Ok(action)
}

/// The Secret lookup and the shared reconcile.
async fn project(endpoint: &WebhookEndpoint, ctx: &Context) -> Result<WebhookOutcome> {
    let namespace = namespace_of(endpoint)?;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = secrets.get_opt(&endpoint.spec.secret_ref.name).await?;
    let signing = signing_secret(secret.as_ref(), &endpoint.spec.secret_ref, &namespace);
    webhook::reconcile_webhook_endpoint(&ctx.db, endpoint, &signing, (ctx.clock)()).await
}

async fn apply(api: &Api<WebhookEndpoint>, endpoint: &WebhookEndpoint, ctx: &Context) -> Result<Action> {
    let current = endpoint.status.as_ref();
    let outcome = match project(endpoint, ctx).await {
        Ok(outcome) => outcome,
        Err(error @ Error::Database(_)) => {
            let mut status = current.cloned().unwrap_or_default();
            let generation = endpoint.metadata.generation;
            status.conditions = database_unavailable(&status.conditions, &error, generation, (ctx.clock)());
            apply_status(api, endpoint, current, &status).await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    apply_status(api, endpoint, current, &outcome.status).await?;
    ctx.metrics.set_phase(
        KIND,
        &object_key(endpoint),
        reward_ready_label(&outcome.status.conditions),
    );
    let ready = ready_condition(&outcome.status.conditions);
    let previous = current.and_then(|status| ready_condition(&status.conditions));
    if let Some(ready) = ready
        && previous.map(|previous| (&previous.status, &previous.reason))
            != Some((&ready.status, &ready.reason))
    {
        // Suspending is a choice, not a fault.
        let type_ = if ready.status == ConditionStatus::True || ready.reason == "Suspended" {
            EventType::Normal
        } else {
            EventType::Warning
        };
        record(ctx, endpoint, type_, &ready.reason, "Sync", ready.message.clone()).await;
    }
    Ok(Action::requeue(spread(RESYNC, &object_key(endpoint))))
}

fn ready_condition(conditions: &[StatusCondition]) -> Option<&StatusCondition> {
    conditions.iter().find(|condition| condition.type_ == "Ready")
}

async fn cleanup(endpoint: &WebhookEndpoint, ctx: &Context) -> Result<Action> {
    webhook::cleanup_webhook_endpoint(&ctx.db, endpoint).await?;
    ctx.metrics.forget(KIND, &object_key(endpoint));
    tracing::info!(endpoint = %endpoint.name_any(), "webhook endpoint deleted: row soft-deleted");
    Ok(Action::await_change())
}
