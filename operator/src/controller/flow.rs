//! The one finalizer-and-status flow every kind plugs into (DESIGN.md,
//! "Second stage": one flow per concern, not per kind): [`reconcile`] wraps
//! the `liveops.dev/cleanup` finalizer around a kind's projection; on apply
//! it writes the desired status (only when it changed), records Kubernetes
//! Events and says when to come back; on deletion it soft-deletes the rows
//! and lets the finalizer go. What differs per kind is its
//! [`ReconciledKind`] implementation, in a file of its own.

use std::{fmt::Debug, future::Future, sync::Arc};

use chrono::{DateTime, Utc};
use kube::{
    Api, Resource, ResourceExt,
    core::{NamespaceResourceScope, object::HasStatus},
    runtime::{
        controller::Action,
        finalizer::{Event as Finalizer, finalizer},
    },
};
use liveops_domain::crd::StatusCondition;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgPool;

use super::{
    Context, FINALIZER, object_key,
    status::{apply_status, database_unavailable, namespace_of, record_ready_change},
};
use crate::{
    error::{Error, Result},
    metrics::reward_ready_label,
};

/// What a kind brings to the shared flow: its projection, its status, the
/// Kubernetes Events it records and when it wants to be reconciled again.
/// Adding a kind is its CRD type, its projection, an implementation of
/// this trait and one controller in `source::cluster`.
pub trait ReconciledKind:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasStatus<Status: Clone + Default + Serialize + PartialEq + Send + Sync>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The kind as a metric label and in logs.
    const KIND: &'static str;

    /// What the source-agnostic reconcile (`crate::reconcile`) decided.
    type Outcome: Send + Sync;

    /// Projects the object into PostgreSQL and computes its status.
    fn project(
        &self,
        ctx: &Context,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Self::Outcome>> + Send;

    /// The status the object should carry after `outcome`.
    fn status_of(outcome: &Self::Outcome) -> &Self::Status;

    /// The kstatus conditions of a status.
    fn conditions(status: &Self::Status) -> &[StatusCondition];

    /// The same, to change.
    fn conditions_mut(status: &mut Self::Status) -> &mut Vec<StatusCondition>;

    /// The object's label in the phase gauge: by default its Ready
    /// condition (kinds without a phase).
    fn phase_label(outcome: &Self::Outcome) -> &'static str {
        reward_ready_label(Self::conditions(Self::status_of(outcome)))
    }

    /// Records the Kubernetes Events `outcome` calls for, given the status
    /// the object carried before (`current`): by default one when the
    /// Ready condition moved.
    fn announce(
        &self,
        ctx: &Context,
        current: Option<&Self::Status>,
        outcome: &Self::Outcome,
    ) -> impl Future<Output = ()> + Send {
        let previous = current.map(Self::conditions);
        let conditions = Self::conditions(Self::status_of(outcome));
        record_ready_change(ctx, self, previous, conditions)
    }

    /// When to reconcile again after a successful apply.
    fn next_action(&self, outcome: &Self::Outcome, now: DateTime<Utc>) -> Action;

    /// Soft-deletes the object's rows (claims history stays).
    fn remove_rows(&self, db: &PgPool) -> impl Future<Output = Result<()>> + Send;
}

/// Reconciles one object of any kind under the finalizer; failures go to
/// [`super::error_policy`].
pub async fn reconcile<K: ReconciledKind>(object: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_started(K::KIND);
    let key = object_key(object.as_ref());
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace_of(object.as_ref())?);
    let action = finalizer(&api, FINALIZER, object, |step| async {
        match step {
            Finalizer::Apply(object) => apply(&api, object.as_ref(), &ctx).await,
            Finalizer::Cleanup(object) => cleanup(object.as_ref(), &ctx).await,
        }
    })
    .await
    .map_err(|error| Error::Finalizer(Box::new(error)))?;
    ctx.succeeded(&key);
    Ok(action)
}

/// Projects, writes the status, records what changed. While the database
/// is unreachable the object shows it (`DatabaseUnavailable`) and the error
/// goes to the error policy for a retry.
async fn apply<K: ReconciledKind>(api: &Api<K>, object: &K, ctx: &Context) -> Result<Action> {
    let now = (ctx.clock)();
    let current = object.status();
    let outcome = match object.project(ctx, now).await {
        Ok(outcome) => outcome,
        Err(error @ Error::Database(_)) => {
            let mut status = current.cloned().unwrap_or_default();
            let conditions = K::conditions_mut(&mut status);
            *conditions = database_unavailable(conditions, &error, object.meta().generation, now);
            apply_status(api, object, current, &status).await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    apply_status(api, object, current, K::status_of(&outcome)).await?;
    ctx.metrics
        .set_phase(K::KIND, &object_key(object), K::phase_label(&outcome));
    object.announce(ctx, current, &outcome).await;
    Ok(object.next_action(&outcome, now))
}

/// Soft-deletes the rows and forgets what this process kept of the object.
async fn cleanup<K: ReconciledKind>(object: &K, ctx: &Context) -> Result<Action> {
    object.remove_rows(&ctx.db).await?;
    let key = object_key(object);
    ctx.memo.forget(&key);
    ctx.metrics.forget(K::KIND, &key);
    tracing::info!(kind = K::KIND, name = %object.name_any(), "deleted: rows soft-deleted");
    Ok(Action::await_change())
}
