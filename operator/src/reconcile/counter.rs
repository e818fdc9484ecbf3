//! Source-agnostic reconcile of Counters: the spec into `counters` under its
//! Event's row, and the status from what the projection found plus the
//! signal activity and the Rewards that require the counter.

use chrono::{DateTime, Utc};
use liveops_domain::crd::{
    Counter, CounterStatus, Health, SpecProblem, challenge_validation::counter_spec_problems, set_health,
};
use sqlx::PgPool;

use super::{generation_of, joined};
use crate::{
    error::Result,
    projection::{self, CounterActivity, CounterProjection, CounterRow},
};

/// What reconciling a Counter decided.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterOutcome {
    /// The status the object should carry.
    pub status: CounterStatus,
    /// Why the spec is invalid or the row was not written (empty when Ready).
    pub problems: Vec<SpecProblem>,
    /// The spec took effect: its row was written from it.
    pub projected: bool,
}

/// Projects a Counter into `counters` (unless its spec is invalid or its
/// Event is missing) and computes its status.
pub async fn reconcile_counter(db: &PgPool, counter: &Counter, now: DateTime<Utc>) -> Result<CounterOutcome> {
    let (namespace, name) = projection::definition_key(&counter.metadata)?;
    let problems = counter_spec_problems(&counter.spec);
    let projected = if problems.is_empty() {
        let row = CounterRow {
            namespace,
            name,
            spec: &counter.spec,
            generation: generation_of(counter.metadata.generation),
        };
        Some(projection::upsert_counter(db, row).await?)
    } else {
        None
    };
    let activity = projection::counter_activity(db, Some(namespace), Some(name))
        .await?
        .into_values()
        .next();
    Ok(counter_outcome(counter, projected, problems, activity, now))
}

/// The outcome of a Counter whose projection found `projected` (`None` when
/// its spec has `problems`), with the activity of its live row. Also what
/// the activity mirror computes for a projected counter.
pub fn counter_outcome(
    counter: &Counter,
    projected: Option<CounterProjection>,
    mut problems: Vec<SpecProblem>,
    activity: Option<CounterActivity>,
    now: DateTime<Utc>,
) -> CounterOutcome {
    let generation = generation_of(counter.metadata.generation);
    let mut conditions = counter
        .status
        .as_ref()
        .map(|status| status.conditions.clone())
        .unwrap_or_default();
    let namespace = projection::namespace_of(&counter.metadata);
    let event = &counter.spec.event_ref.name;
    let written = projected == Some(CounterProjection::Projected);
    let (health, reason, message) = match projected {
        Some(CounterProjection::Projected) => {
            (Health::Ready, "Synced", format!("counting under Event {event}"))
        }
        Some(CounterProjection::EventNotFound) => {
            // Not Stalled: applying the Event resolves it, as for a Reward.
            let problem = SpecProblem {
                field: "spec.eventRef.name".to_owned(),
                message: format!("Event {namespace}/{event} does not exist"),
            };
            let message = format!("{problem}; waiting for it to be created");
            problems.push(problem);
            (Health::Reconciling, "EventNotFound", message)
        }
        Some(CounterProjection::LedgerMismatch {
            event: owner,
            aggregation,
        }) => {
            let problem = SpecProblem {
                field: "spec".to_owned(),
                message: format!(
                    "this counter's values were counted under Event {owner} as {aggregation}; \
                     a counter for another event or aggregation needs a new name"
                ),
            };
            let message = problem.to_string();
            problems.push(problem);
            let reason = if owner == *event {
                "AggregationChanged"
            } else {
                "EventRefChanged"
            };
            (Health::Stalled, reason, message)
        }
        None => (
            Health::Stalled,
            "InvalidSpec",
            format!("invalid spec, edit it: {}", joined(&problems)),
        ),
    };
    set_health(&mut conditions, health, reason, &message, generation, now);
    let activity = activity.unwrap_or_default();
    let status = CounterStatus {
        observed_generation: Some(generation),
        conditions,
        last_signal_at: activity.signals.last_signal_at,
        signals_per_minute: Some(activity.signals.signals_per_minute),
        rewards: activity.rewards,
    };
    CounterOutcome {
        status,
        problems,
        projected: written,
    }
}

/// Soft-deletes a Counter's row on deletion (its values stay).
pub async fn cleanup_counter(db: &PgPool, counter: &Counter) -> Result<()> {
    let (namespace, name) = projection::definition_key(&counter.metadata)?;
    projection::soft_delete_counter(db, namespace, name).await
}

#[cfg(test)]
#[path = "counter_tests.rs"]
mod tests;
