//! The Event controller's reconcile: finalizer, status, Kubernetes Events, requeue.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use kube::{
    Api, ResourceExt,
    runtime::{
        controller::Action,
        events::EventType,
        finalizer::{Event as Finalizer, finalizer},
    },
};
use liveops_domain::crd::{Event, EventPhase};

use super::{
    Context, FINALIZER, object_key,
    status::{apply_status, database_unavailable, namespace_of, record, requeue_at},
};
use crate::{
    error::{Error, Result},
    reconcile::{self, EventOutcome, refresh::refresh_event},
};

/// How long after a boundary the Event's own requeue comes (see `apply`).
pub const BOUNDARY_GRACE: TimeDelta = TimeDelta::seconds(5);

/// Reconciles one Event: projects it into Postgres, writes its status and
/// requeues at its next phase boundary; on deletion soft-deletes its rows.
pub async fn reconcile_event(event: Arc<Event>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_started("Event");
    let key = object_key(event.as_ref());
    let api: Api<Event> = Api::namespaced(ctx.client.clone(), &namespace_of(event.as_ref())?);
    let action = finalizer(&api, FINALIZER, event, |step| async {
        match step {
            Finalizer::Apply(event) => apply(&api, &event, &ctx).await,
            Finalizer::Cleanup(event) => cleanup(&event, &ctx).await,
        }
    })
    .await
    .map_err(|error| Error::Finalizer(Box::new(error)))?;
    ctx.succeeded(&key);
    Ok(action)
}

/// The shared reconcile, or only a counters read when this process already
/// projected this generation (see `memo`: its row's phase moves with the
/// phase timer, so the reconciles after a boundary only write statuses).
async fn project(event: &Event, ctx: &Context, now: DateTime<Utc>) -> Result<EventOutcome> {
    let key = object_key(event);
    let generation = event.metadata.generation.unwrap_or(1);
    if ctx.memo.is_current(&key, generation)
        && let Some(outcome) = refresh_event(&ctx.db, event, now).await?
    {
        return Ok(outcome);
    }
    let outcome = reconcile::reconcile_event(&ctx.db, event, now).await?;
    if outcome.projected {
        ctx.memo.projected(key, generation);
    } else {
        ctx.memo.forget(&key);
    }
    Ok(outcome)
}

async fn apply(api: &Api<Event>, event: &Event, ctx: &Context) -> Result<Action> {
    let now = (ctx.clock)();
    let current = event.status.as_ref();
    let outcome = match project(event, ctx, now).await {
        Ok(outcome) => outcome,
        Err(error @ Error::Database(_)) => {
            let mut status = current.cloned().unwrap_or_default();
            status.conditions =
                database_unavailable(&status.conditions, &error, event.metadata.generation, now);
            apply_status(api, event, current, &status).await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    if let Some(id) = outcome.row_id {
        ctx.phase_timer.schedule(id, outcome.requeue_at);
    }
    apply_status(api, event, current, &outcome.status).await?;

    let phase = outcome.status.phase.unwrap_or(EventPhase::Invalid);
    ctx.metrics.set_phase("Event", &object_key(event), phase.as_str());
    if let Some((previous, phase)) = outcome.phase_change {
        let note = match previous {
            Some(previous) => format!("phase {previous} -> {phase}"),
            None => format!("phase {phase}"),
        };
        let type_ = if phase == EventPhase::Invalid {
            EventType::Warning
        } else {
            EventType::Normal
        };
        // The reason is the phase itself, so "Active" and "Ended" read apart
        // in `kubectl events`.
        record(ctx, event, type_, phase.as_str(), "PhaseChange", note).await;
    }
    // Spec problems are reported once per generation, not on every requeue.
    let observed = current.and_then(|status| status.observed_generation);
    if !outcome.problems.is_empty() && observed != event.metadata.generation {
        let note = outcome
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        record(ctx, event, EventType::Warning, "InvalidSpec", "Validate", note).await;
    }
    tracing::debug!(event = %event.name_any(), %phase, next = ?outcome.requeue_at, "event reconciled");
    // The status follows a boundary when the phase timer reports the flip
    // (`source::cluster`); this requeue is only the safety net behind it, a
    // little later, so that 10,000 reconciles sharing a boundary do not
    // compete with the timer's flip for the CPU and the database.
    Ok(requeue_at(outcome.requeue_at.map(|at| at + BOUNDARY_GRACE), now))
}

async fn cleanup(event: &Event, ctx: &Context) -> Result<Action> {
    reconcile::cleanup_event(&ctx.db, event).await?;
    ctx.memo.forget(&object_key(event));
    ctx.metrics.forget("Event", &object_key(event));
    tracing::info!(event = %event.name_any(), "event deleted: rows soft-deleted");
    Ok(Action::await_change())
}
