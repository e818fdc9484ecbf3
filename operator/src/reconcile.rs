//! Source-agnostic reconcile of Events and Rewards: the one code path both
//! sources share (the cluster controller wraps it in a finalizer and writes
//! the status with server-side apply; manifests mode stores it in
//! `resource_status`).
//!
//! The desired status is computed from the object's current status so that
//! an unchanged object yields an identical status: `lastTransitionTime` only
//! moves on a flip and no field holds "now", so writing the status never
//! wakes the controller again.
//!
//! Rewards' `claimed`/`remaining` are refreshed by a short resync (the
//! callers re-run [`reconcile_reward`], see [`REWARD_RESYNC`]), not by
//! LISTEN/NOTIFY: the reconcile only reads when nothing changed, so a resync
//! costs one or two indexed selects per reward.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::ResourceExt;
use liveops_domain::crd::{
    ConditionStatus, Event, EventPhase, EventStatus, Reward, RewardStatus, SpecProblem, StatusCondition,
    set_condition, validation::reward_spec_problems,
};
use sqlx::PgPool;

use crate::{
    error::Result,
    projection::{self, EventRow, RewardProjection, RewardRow},
    schedule::schedule_at,
};

/// How often manifests mode re-reads Rewards' counters, so `claimed` and
/// `remaining` follow claims within seconds.
pub const REWARD_RESYNC: Duration = Duration::from_secs(2);

/// Condition type both kinds carry.
pub const READY: &str = "Ready";

/// What reconciling an Event decided.
#[derive(Clone, Debug, PartialEq)]
pub struct EventOutcome {
    /// The status the object should carry.
    pub status: EventStatus,
    /// Why the spec is invalid (empty when valid): for Kubernetes Events and logs.
    pub problems: Vec<SpecProblem>,
    /// The spec took effect: its row was written from it.
    pub projected: bool,
    /// The phase before (from the current status) and after, when it changed.
    pub phase_change: Option<(Option<EventPhase>, EventPhase)>,
    /// When to reconcile again: exactly the next phase boundary; `None` when
    /// nothing is ahead (Ended, Invalid).
    pub requeue_at: Option<DateTime<Utc>>,
}

/// What reconciling a Reward decided.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardOutcome {
    /// The status the object should carry.
    pub status: RewardStatus,
    /// Why the spec is invalid or the row was not written (empty when Ready).
    pub problems: Vec<SpecProblem>,
    /// The spec took effect: its row was written from it.
    pub projected: bool,
}

fn generation_of(meta_generation: Option<i64>) -> i64 {
    // Manifests-mode objects and freshly created ones may lack a generation.
    meta_generation.unwrap_or(1)
}

/// The `Ready` condition with these values.
pub(crate) fn ready(
    status: ConditionStatus,
    reason: &str,
    message: String,
    generation: i64,
    now: DateTime<Utc>,
) -> StatusCondition {
    StatusCondition {
        type_: READY.to_owned(),
        status,
        reason: reason.to_owned(),
        message,
        last_transition_time: now,
        observed_generation: Some(generation),
    }
}

/// Problems as one condition message.
pub(crate) fn joined(problems: &[SpecProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Projects an Event into `events` with its phase at `now`, and computes
/// its status and next requeue instant.
pub async fn reconcile_event(db: &PgPool, event: &Event, now: DateTime<Utc>) -> Result<EventOutcome> {
    let (namespace, name) = projection::definition_key(&event.metadata)?;
    let generation = generation_of(event.metadata.generation);
    let schedule = schedule_at(&event.spec, now);

    let claims_total = if schedule.problems.is_empty() {
        let row = EventRow {
            namespace,
            name,
            spec: &event.spec,
            phase: schedule.phase,
            generation,
        };
        Some(projection::upsert_event(db, row).await?)
    } else {
        projection::mark_event_invalid(db, namespace, name, generation).await?;
        projection::event_claims_total(db, namespace, name).await?
    };

    let current = event.status.clone().unwrap_or_default();
    let mut conditions = current.conditions.clone();
    let condition = if schedule.problems.is_empty() {
        ready(
            ConditionStatus::True,
            "Synced",
            format!("phase {}", schedule.phase),
            generation,
            now,
        )
    } else {
        ready(
            ConditionStatus::False,
            "InvalidSpec",
            joined(&schedule.problems),
            generation,
            now,
        )
    };
    set_condition(&mut conditions, condition);
    let status = EventStatus {
        phase: Some(schedule.phase),
        observed_generation: Some(generation),
        conditions,
        next_transition_time: schedule.next_transition_at,
        claims_total,
    };
    let phase_change = (current.phase != Some(schedule.phase)).then_some((current.phase, schedule.phase));
    Ok(EventOutcome {
        projected: schedule.problems.is_empty(),
        status,
        problems: schedule.problems,
        phase_change,
        requeue_at: schedule.next_transition_at,
    })
}

/// Projects a Reward into `rewards` (unless its Event has no live row) and
/// computes its status from the counters the claim transaction keeps.
pub async fn reconcile_reward(db: &PgPool, reward: &Reward, now: DateTime<Utc>) -> Result<RewardOutcome> {
    let (namespace, name) = projection::definition_key(&reward.metadata)?;
    let generation = generation_of(reward.metadata.generation);
    let current = reward.status.clone().unwrap_or_default();
    let mut conditions = current.conditions.clone();

    let problems = reward_spec_problems(&reward.spec);
    let projected = if problems.is_empty() {
        let row = RewardRow {
            namespace,
            name,
            spec: &reward.spec,
            generation,
        };
        Some(projection::upsert_reward(db, row).await?)
    } else {
        None
    };
    let written = matches!(projected, Some(RewardProjection::Projected { .. }));
    let (claimed, remaining, problems) = match projected {
        Some(RewardProjection::Projected { claimed, quantity }) => {
            let message = format!("projected under Event {}", reward.spec.event_ref.name);
            set_condition(
                &mut conditions,
                ready(ConditionStatus::True, "Synced", message, generation, now),
            );
            let remaining = quantity.map(|quantity| (quantity - claimed).max(0));
            (Some(claimed), remaining, problems)
        }
        Some(RewardProjection::EventNotFound) => {
            let problem = SpecProblem {
                field: "spec.eventRef.name".to_owned(),
                message: format!("Event {namespace}/{} does not exist", reward.spec.event_ref.name),
            };
            let condition = ready(
                ConditionStatus::False,
                "EventNotFound",
                problem.to_string(),
                generation,
                now,
            );
            set_condition(&mut conditions, condition);
            (current.claimed, current.remaining, vec![problem])
        }
        Some(RewardProjection::EventRefChanged { event }) => {
            // Re-created under the same name with another eventRef: the
            // ledger stays with its event (DESIGN.md, "Claims: integrity on
            // every path"), as the CEL rule keeps an edit from moving it.
            let problem = SpecProblem {
                field: "spec.eventRef.name".to_owned(),
                message: format!(
                    "Reward {namespace}/{name} belongs to Event {event} (its claims and stock stay there), \
                     so eventRef cannot become {}: give a reward for another event a new name",
                    reward.spec.event_ref.name
                ),
            };
            let condition = ready(
                ConditionStatus::False,
                "EventRefChanged",
                problem.to_string(),
                generation,
                now,
            );
            set_condition(&mut conditions, condition);
            (current.claimed, current.remaining, vec![problem])
        }
        None => {
            let condition = ready(
                ConditionStatus::False,
                "InvalidSpec",
                joined(&problems),
                generation,
                now,
            );
            set_condition(&mut conditions, condition);
            (current.claimed, current.remaining, problems)
        }
    };
    let status = RewardStatus {
        claimed,
        remaining,
        conditions,
        observed_generation: Some(generation),
    };
    tracing::trace!(reward = %reward.name_any(), ?status, "reward reconciled");
    Ok(RewardOutcome {
        status,
        problems,
        projected: written,
    })
}

/// Soft-deletes an Event's row on deletion (claims history stays).
pub async fn cleanup_event(db: &PgPool, event: &Event) -> Result<()> {
    let (namespace, name) = projection::definition_key(&event.metadata)?;
    projection::soft_delete_event(db, namespace, name).await
}

/// Soft-deletes a Reward's row on deletion (claims history stays).
pub async fn cleanup_reward(db: &PgPool, reward: &Reward) -> Result<()> {
    let (namespace, name) = projection::definition_key(&reward.metadata)?;
    projection::soft_delete_reward(db, namespace, name).await
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
