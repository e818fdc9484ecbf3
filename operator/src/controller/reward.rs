//! The Reward controller's reconcile: finalizer, status, Kubernetes Events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kube::{
    Api, ResourceExt,
    runtime::{
        controller::Action,
        events::EventType,
        finalizer::{Event as Finalizer, finalizer},
    },
};
use liveops_domain::crd::{ConditionStatus, Reward, StatusCondition};

use super::{
    Context, FINALIZER, object_key,
    status::{apply_status, database_unavailable, namespace_of, record},
};
use crate::{
    error::{Error, Result},
    metrics::reward_ready_label,
    reconcile::{self, RewardOutcome, refresh::refresh_reward},
};

/// Reconciles one Reward: projects it into Postgres (unless its Event is
/// missing), writes `claimed`/`remaining` and the Ready condition; on
/// deletion soft-deletes its row.
pub async fn reconcile_reward(reward: Arc<Reward>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_started("Reward");
    let key = object_key(reward.as_ref());
    let api: Api<Reward> = Api::namespaced(ctx.client.clone(), &namespace_of(reward.as_ref())?);
    let action = finalizer(&api, FINALIZER, reward, |step| async {
        match step {
            Finalizer::Apply(reward) => apply(&api, &reward, &ctx).await,
            Finalizer::Cleanup(reward) => cleanup(&reward, &ctx).await,
        }
    })
    .await
    .map_err(|error| Error::Finalizer(Box::new(error)))?;
    ctx.succeeded(&key);
    Ok(action)
}

/// The shared reconcile, or only a counters read when this process already
/// projected this generation (see `memo`).
async fn project(reward: &Reward, ctx: &Context, now: DateTime<Utc>) -> Result<RewardOutcome> {
    let key = object_key(reward);
    let generation = reward.metadata.generation.unwrap_or(1);
    if ctx.memo.is_current(&key, generation)
        && let Some(outcome) = refresh_reward(&ctx.db, reward, now).await?
    {
        return Ok(outcome);
    }
    let outcome = reconcile::reconcile_reward(&ctx.db, reward, now).await?;
    if outcome.projected {
        ctx.memo.projected(key, generation);
    } else {
        ctx.memo.forget(&key);
    }
    Ok(outcome)
}

async fn apply(api: &Api<Reward>, reward: &Reward, ctx: &Context) -> Result<Action> {
    let now = (ctx.clock)();
    let current = reward.status.as_ref();
    let outcome = match project(reward, ctx, now).await {
        Ok(outcome) => outcome,
        Err(error @ Error::Database(_)) => {
            let mut status = current.cloned().unwrap_or_default();
            status.conditions =
                database_unavailable(&status.conditions, &error, reward.metadata.generation, now);
            apply_status(api, reward, current, &status).await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    apply_status(api, reward, current, &outcome.status).await?;

    let ready = ready_condition(&outcome.status.conditions);
    let ready_reason = ready.map_or("Unknown", |ready| ready.reason.as_str());
    ctx.metrics.set_phase(
        "Reward",
        &object_key(reward),
        reward_ready_label(&outcome.status.conditions),
    );
    let previous = current.and_then(|status| ready_condition(&status.conditions));
    if let Some(ready) = ready
        && previous.map(|previous| (&previous.status, &previous.reason))
            != Some((&ready.status, &ready.reason))
    {
        let type_ = if ready.status == ConditionStatus::True {
            EventType::Normal
        } else {
            EventType::Warning
        };
        record(ctx, reward, type_, ready_reason, "Sync", ready.message.clone()).await;
    }
    // No requeue: claims wake the Reward within seconds, and the slow
    // safety net is a stream of its own (`source::cluster::resync`).
    Ok(Action::await_change())
}

fn ready_condition(conditions: &[StatusCondition]) -> Option<&StatusCondition> {
    conditions.iter().find(|condition| condition.type_ == "Ready")
}

async fn cleanup(reward: &Reward, ctx: &Context) -> Result<Action> {
    reconcile::cleanup_reward(&ctx.db, reward).await?;
    ctx.memo.forget(&object_key(reward));
    ctx.metrics.forget("Reward", &object_key(reward));
    tracing::info!(reward = %reward.name_any(), "reward deleted: row soft-deleted");
    Ok(Action::await_change())
}
