//! Batches of objects through the shared reconcile, their statuses stored
//! in `resource_status` when they changed (what a cluster would hold),
//! with a refused edit shown on the Ready condition.

use chrono::{DateTime, Utc};
use liveops_domain::crd::{Event, Health, Reward, SpecProblem, StatusCondition, set_health};
use sqlx::PgPool;

use super::{documents::Origin, object_key::ObjectKey, status_store};
use crate::{
    error::Result,
    reconcile::{EventOutcome, RewardOutcome, batch, joined},
};

/// Ready reason of an object whose latest edit broke a transition rule.
pub const IMMUTABLE_FIELD_CHANGED: &str = "ImmutableFieldChanged";

/// Logs why a loaded object is invalid, with where it came from.
pub fn report_problems(origin: &Origin, problems: &[SpecProblem]) {
    for problem in problems {
        tracing::warn!(
            file = %origin.file.display(),
            document = origin.document,
            line = origin.line,
            field = %problem.field,
            message = %problem.message,
            "invalid spec"
        );
    }
}

/// One object of a batch: its key, the object as tracked, and the refusal
/// of its latest edit (empty when none).
pub struct Job<'a, T> {
    pub key: &'a ObjectKey,
    pub object: &'a T,
    pub refused: &'a [SpecProblem],
}

/// Events through the shared batched reconcile; the statuses that changed
/// stored with one statement. Outcomes in the order of `jobs`.
pub async fn reconcile_events(
    db: &PgPool,
    jobs: &[Job<'_, Event>],
    now: DateTime<Utc>,
) -> Result<Vec<EventOutcome>> {
    let objects: Vec<&Event> = jobs.iter().map(|job| job.object).collect();
    let mut outcomes = batch::reconcile_events(db, &objects, now).await?;
    let mut changed = Vec::new();
    for (job, outcome) in jobs.iter().zip(&mut outcomes) {
        let event = job.object;
        let previous = event.status.as_ref().map(|status| status.conditions.as_slice());
        show_refusal(
            &mut outcome.status.conditions,
            &mut outcome.problems,
            previous,
            job.refused,
            event.metadata.generation,
            now,
        );
        if event.status.as_ref() != Some(&outcome.status) {
            changed.push((job.key.clone(), serde_json::to_string(&outcome.status)?));
        }
    }
    store_changed("Event", db, &changed).await?;
    Ok(outcomes)
}

/// Rewards through the shared batched reconcile; the statuses that changed
/// stored with one statement. Outcomes in the order of `jobs`.
pub async fn reconcile_rewards(
    db: &PgPool,
    jobs: &[Job<'_, Reward>],
    now: DateTime<Utc>,
) -> Result<Vec<RewardOutcome>> {
    let objects: Vec<&Reward> = jobs.iter().map(|job| job.object).collect();
    let mut outcomes = batch::reconcile_rewards(db, &objects, now).await?;
    let mut changed = Vec::new();
    for (job, outcome) in jobs.iter().zip(&mut outcomes) {
        let reward = job.object;
        let previous = reward.status.as_ref().map(|status| status.conditions.as_slice());
        show_refusal(
            &mut outcome.status.conditions,
            &mut outcome.problems,
            previous,
            job.refused,
            reward.metadata.generation,
            now,
        );
        if reward.status.as_ref() != Some(&outcome.status) {
            changed.push((job.key.clone(), serde_json::to_string(&outcome.status)?));
        }
    }
    store_changed("Reward", db, &changed).await?;
    Ok(outcomes)
}

/// Stores the statuses that changed, logging each at debug level (at
/// 40,000 objects an info line per status would cost more than the writes).
pub async fn store_changed(kind: &str, db: &PgPool, changed: &[(ObjectKey, String)]) -> Result<()> {
    status_store::store_many(db, changed).await?;
    for (key, status) in changed {
        tracing::debug!(kind, namespace = %key.namespace, name = %key.name, %status, "status");
    }
    Ok(())
}

/// Shows a refused edit (the loaded spec breaks a transition rule, so the
/// last accepted spec, which `conditions` describe, stays in force) as
/// Ready=False and Stalled=True (only reverting the edit helps), reason
/// [`IMMUTABLE_FIELD_CHANGED`], as an API server would have rejected the
/// update. The condition is derived from the `previous`
/// status, not from the reconcile's Ready, so a resync of an unchanged
/// refusal yields an identical status (no `lastTransitionTime` churn).
pub(super) fn show_refusal(
    conditions: &mut Vec<StatusCondition>,
    problems: &mut Vec<SpecProblem>,
    previous: Option<&[StatusCondition]>,
    refused: &[SpecProblem],
    generation: Option<i64>,
    now: DateTime<Utc>,
) {
    if refused.is_empty() {
        return;
    }
    let message = format!(
        "edit refused, the last accepted spec stays in force: {}",
        joined(refused)
    );
    let mut shown = previous.unwrap_or_default().to_vec();
    let generation = generation.unwrap_or(1);
    set_health(
        &mut shown,
        Health::Stalled,
        IMMUTABLE_FIELD_CHANGED,
        &message,
        generation,
        now,
    );
    *conditions = shown;
    problems.extend(refused.iter().cloned());
}
