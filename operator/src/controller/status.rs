//! Writing status with server-side apply, and recording Kubernetes Events.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{
        controller::Action,
        events::{Event as KubeEvent, EventType},
    },
};
use liveops_domain::crd::{ConditionStatus, Health, READY, StatusCondition, set_health};
use serde::Serialize;

use super::{Context, FIELD_MANAGER};
use crate::error::{Error, Result};

/// Applies `status` to the status subresource when it differs from `current`.
///
/// Server-side apply with our field manager and `force`, so the operator
/// owns every status field it writes. Skipping unchanged statuses matters:
/// each write is a watch event that would wake the controller again.
/// Returns whether a patch was sent.
pub async fn apply_status<K, S>(api: &Api<K>, object: &K, current: Option<&S>, status: &S) -> Result<bool>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if current == Some(status) {
        return Ok(false);
    }
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        &object.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(true)
}

/// Records a Kubernetes Event about `object` (events.k8s.io).
///
/// Events are informational: a failure to record one is logged, never a
/// reason to retry the reconcile (that would repeat work already done).
pub async fn record<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    object: &K,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let event = KubeEvent {
        type_,
        reason: reason.to_owned(),
        note: Some(note),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &object.object_ref(&())).await {
        tracing::warn!(object = %object.name_any(), reason, error = %error, "recording a Kubernetes Event failed");
    }
}

/// Records a Kubernetes Event when the Ready condition's status or reason
/// moved from `previous`: Normal when ready or suspended (suspending is a
/// choice, not a fault), Warning otherwise.
pub async fn record_ready_change<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    object: &K,
    previous: Option<&[StatusCondition]>,
    conditions: &[StatusCondition],
) {
    let Some(ready) = ready_condition(conditions) else {
        return;
    };
    let was = previous.and_then(ready_condition);
    if was.map(|was| (&was.status, &was.reason)) == Some((&ready.status, &ready.reason)) {
        return;
    }
    let type_ = if ready.status == ConditionStatus::True || ready.reason == "Suspended" {
        EventType::Normal
    } else {
        EventType::Warning
    };
    record(ctx, object, type_, &ready.reason, "Sync", ready.message.clone()).await;
}

/// The Ready condition among `conditions`.
pub fn ready_condition(conditions: &[StatusCondition]) -> Option<&StatusCondition> {
    conditions.iter().find(|condition| condition.type_ == READY)
}

/// Requeue at `at` exactly (no debounce), or wait for a change when there
/// is no next boundary. An instant already past requeues at once.
pub fn requeue_at(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Action {
    match at {
        Some(at) => Action::requeue((at - now).to_std().unwrap_or(Duration::ZERO)),
        None => Action::await_change(),
    }
}

/// The namespace of a namespaced object.
pub fn namespace_of<K: Resource>(object: &K) -> Result<String> {
    object.namespace().ok_or(Error::MissingMetadata("namespace"))
}

/// `conditions` with Ready=False and Reconciling=True, reason
/// `DatabaseUnavailable`: what the object shows while PostgreSQL cannot be
/// reached (DESIGN.md, "Custom resources"). The reconcile is retried, and
/// the next successful one makes it Ready again.
pub fn database_unavailable(
    conditions: &[StatusCondition],
    error: &Error,
    generation: Option<i64>,
    now: DateTime<Utc>,
) -> Vec<StatusCondition> {
    let mut conditions = conditions.to_vec();
    let message = format!("database unavailable, retrying: {error}");
    let generation = generation.unwrap_or(1);
    set_health(
        &mut conditions,
        Health::Reconciling,
        "DatabaseUnavailable",
        &message,
        generation,
        now,
    );
    conditions
}
