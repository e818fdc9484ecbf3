//! The status an object should carry, from what its projection found:
//! shared by the one-object reconcile, the batched one and the refresh.

use chrono::{DateTime, Utc};
use kube::ResourceExt;
use liveops_domain::crd::{
    ConditionStatus, Event, EventStatus, Reward, RewardStatus, SpecProblem, set_condition,
};
use uuid::Uuid;

use super::{EventOutcome, RewardOutcome, generation_of, joined, ready};
use crate::{
    projection::{self, RewardProjection},
    schedule::Schedule,
};

/// The outcome of an Event whose projection found `claims_total` (and
/// wrote row `row_id` when its spec is valid): the status follows from the
/// schedule and the current status.
pub(crate) fn event_outcome(
    event: &Event,
    schedule: Schedule,
    claims_total: Option<i64>,
    row_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> EventOutcome {
    let generation = generation_of(event.metadata.generation);
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
    // `set_condition` grows the vector to four slots for one condition;
    // at 40,000 objects the spare slots are over 10 MB.
    conditions.shrink_to_fit();
    let status = EventStatus {
        phase: Some(schedule.phase),
        observed_generation: Some(generation),
        conditions,
        next_transition_time: schedule.next_transition_at,
        claims_total,
    };
    let phase_change = (current.phase != Some(schedule.phase)).then_some((current.phase, schedule.phase));
    EventOutcome {
        projected: schedule.problems.is_empty(),
        status,
        problems: schedule.problems,
        phase_change,
        requeue_at: schedule.next_transition_at,
        row_id,
    }
}

/// The outcome of a Reward whose projection found `projected` (`None`
/// when its spec has `problems` and nothing was written).
pub(crate) fn reward_outcome(
    reward: &Reward,
    projected: Option<RewardProjection>,
    problems: Vec<SpecProblem>,
    now: DateTime<Utc>,
) -> RewardOutcome {
    let namespace = projection::namespace_of(&reward.metadata);
    let name = reward.metadata.name.as_deref().unwrap_or_default();
    let generation = generation_of(reward.metadata.generation);
    let current = reward.status.clone().unwrap_or_default();
    let mut conditions = current.conditions.clone();
    let written = matches!(projected, Some(RewardProjection::Projected { .. }));
    let (claimed, remaining, problems) = match projected {
        Some(RewardProjection::Projected { claimed, quantity }) => {
            let message = format!("projected under Event {}", reward.spec.event_ref.name);
            set_condition(
                &mut conditions,
                ready(ConditionStatus::True, "Synced", message, generation, now),
            );
            (Some(claimed), remaining_of(claimed, quantity), problems)
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
    conditions.shrink_to_fit();
    let status = RewardStatus {
        claimed,
        remaining,
        conditions,
        observed_generation: Some(generation),
    };
    tracing::trace!(reward = %reward.name_any(), ?status, "reward reconciled");
    RewardOutcome {
        status,
        problems,
        projected: written,
    }
}

/// `remaining` from the counters: stock left, never below zero; `None`
/// for unlimited stock.
pub fn remaining_of(claimed: i64, quantity: Option<i64>) -> Option<i64> {
    quantity.map(|quantity| (quantity - claimed).max(0))
}
