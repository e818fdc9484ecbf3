//! The status an object should carry, from what its projection found:
//! shared by the one-object reconcile, the batched one and the refresh.

use chrono::{DateTime, Utc};
use kube::ResourceExt;
use liveops_domain::crd::{
    Event, EventPhase, EventStatus, Health, Reward, RewardStatus, SpecProblem, set_health,
};
use uuid::Uuid;

use super::{EventOutcome, RewardOutcome, generation_of, joined};
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
    if schedule.problems.is_empty() {
        let message = event_message(&schedule);
        set_health(
            &mut conditions,
            Health::Ready,
            "Synced",
            &message,
            generation,
            now,
        );
    } else {
        let message = format!("invalid spec, edit it: {}", joined(&schedule.problems));
        set_health(
            &mut conditions,
            Health::Stalled,
            "InvalidSpec",
            &message,
            generation,
            now,
        );
    }
    let status = EventStatus {
        phase: Some(schedule.phase),
        observed_generation: Some(generation),
        conditions,
        next_transition_time: schedule.next_transition_at,
        claims_total,
    };
    let phase_change = (current.phase != Some(schedule.phase)).then_some((current.phase, schedule.phase));
    let requeue_at = schedule.wake_at();
    EventOutcome {
        projected: schedule.problems.is_empty(),
        status,
        problems: schedule.problems,
        phase_change,
        requeue_at,
        row_id,
    }
}

/// The Ready message of a valid Event: its phase and what comes next. No
/// clock-relative words ("in 3h"), so an unchanged object keeps an
/// identical status.
fn event_message(schedule: &Schedule) -> String {
    let rfc3339 = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let next = schedule.next_transition_at.map(rfc3339);
    if let Some(close) = schedule.claims_close_at.map(rfc3339) {
        match (schedule.phase, &next) {
            (EventPhase::Active, Some(end)) => {
                return format!("Active: counting until {end}, claims open until {close}");
            }
            (EventPhase::Ended, _) => return format!("Ended: counting stopped; claims open until {close}"),
            _ => {}
        }
    }
    match (schedule.phase, next) {
        (EventPhase::Scheduled, Some(next)) => format!("Scheduled: claims open at {next}"),
        (EventPhase::Active, Some(next)) => format!("Active: claims open until {next}"),
        (EventPhase::Suspended, Some(next)) => {
            format!("Suspended (spec.suspend): claims paused; the event ends at {next}")
        }
        (EventPhase::Suspended, None) => "Suspended (spec.suspend): claims paused".to_owned(),
        (EventPhase::Ended, _) => "Ended: claims closed".to_owned(),
        (phase, _) => phase.to_string(),
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
    let event = &reward.spec.event_ref.name;
    let (claimed, remaining, problems) = match projected {
        Some(RewardProjection::Projected { claimed, quantity }) => {
            let message = format!("projected under Event {event}");
            set_health(
                &mut conditions,
                Health::Ready,
                "Synced",
                &message,
                generation,
                now,
            );
            (Some(claimed), remaining_of(claimed, quantity), problems)
        }
        Some(RewardProjection::EventNotFound) => {
            // Not Stalled: applying the Event (often later in the same
            // GitOps sync) resolves it without editing this Reward.
            let problem = SpecProblem {
                field: "spec.eventRef.name".to_owned(),
                message: format!("Event {namespace}/{event} does not exist"),
            };
            let message = format!("{problem}; waiting for it to be created");
            set_health(
                &mut conditions,
                Health::Reconciling,
                "EventNotFound",
                &message,
                generation,
                now,
            );
            (current.claimed, current.remaining, vec![problem])
        }
        Some(RewardProjection::EventRefChanged { event: owner }) => {
            // Re-created under the same name with another eventRef: the
            // ledger stays with its event (DESIGN.md, "Claims: integrity on
            // every path"), as the CEL rule keeps an edit from moving it.
            let problem = SpecProblem {
                field: "spec.eventRef.name".to_owned(),
                message: format!(
                    "Reward {namespace}/{name} belongs to Event {owner} (its claims and stock stay there), \
                     so eventRef cannot become {event}: give a reward for another event a new name"
                ),
            };
            let message = problem.to_string();
            set_health(
                &mut conditions,
                Health::Stalled,
                "EventRefChanged",
                &message,
                generation,
                now,
            );
            (current.claimed, current.remaining, vec![problem])
        }
        None => {
            let message = format!("invalid spec, edit it: {}", joined(&problems));
            set_health(
                &mut conditions,
                Health::Stalled,
                "InvalidSpec",
                &message,
                generation,
                now,
            );
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
