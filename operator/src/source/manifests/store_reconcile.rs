//! One object through the shared reconcile, its status stored in
//! `resource_status` and logged when it changed (what a cluster would hold),
//! with a refused edit shown on the Ready condition.

use chrono::{DateTime, Utc};
use liveops_domain::crd::{ConditionStatus, Event, Reward, SpecProblem, StatusCondition, set_condition};
use sqlx::PgPool;

use super::{
    documents::{ObjectKey, Origin},
    status_store,
};
use crate::{
    error::Result,
    reconcile::{self, EventOutcome, READY, RewardOutcome, joined, ready},
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

/// One Event through the shared reconcile; its status stored and logged when it changed.
pub async fn reconcile_event(
    db: &PgPool,
    key: &ObjectKey,
    event: &Event,
    refused: &[SpecProblem],
    now: DateTime<Utc>,
) -> Result<EventOutcome> {
    let mut outcome = reconcile::reconcile_event(db, event, now).await?;
    let previous = event.status.as_ref().map(|status| status.conditions.as_slice());
    show_refusal(
        &mut outcome.status.conditions,
        &mut outcome.problems,
        previous,
        refused,
        event.metadata.generation,
        now,
    );
    if event.status.as_ref() != Some(&outcome.status) {
        let status = serde_json::to_value(&outcome.status)?;
        status_store::store(db, key, &status).await?;
        tracing::info!(kind = "Event", namespace = %key.1, name = %key.2, %status, "status");
    }
    Ok(outcome)
}

/// One Reward through the shared reconcile; its status stored and logged when it changed.
pub async fn reconcile_reward(
    db: &PgPool,
    key: &ObjectKey,
    reward: &Reward,
    refused: &[SpecProblem],
    now: DateTime<Utc>,
) -> Result<RewardOutcome> {
    let mut outcome = reconcile::reconcile_reward(db, reward, now).await?;
    let previous = reward.status.as_ref().map(|status| status.conditions.as_slice());
    show_refusal(
        &mut outcome.status.conditions,
        &mut outcome.problems,
        previous,
        refused,
        reward.metadata.generation,
        now,
    );
    if reward.status.as_ref() != Some(&outcome.status) {
        let status = serde_json::to_value(&outcome.status)?;
        status_store::store(db, key, &status).await?;
        tracing::info!(kind = "Reward", namespace = %key.1, name = %key.2, %status, "status");
    }
    Ok(outcome)
}

/// Shows a refused edit (the loaded spec breaks a transition rule, so the
/// last accepted spec, which `conditions` describe, stays in force) as
/// Ready=False, reason [`IMMUTABLE_FIELD_CHANGED`], as an API server would
/// have rejected the update. The condition is derived from the `previous`
/// status, not from the reconcile's Ready, so a resync of an unchanged
/// refusal yields an identical status (no `lastTransitionTime` churn).
fn show_refusal(
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
    let condition = ready(
        ConditionStatus::False,
        IMMUTABLE_FIELD_CHANGED,
        message,
        generation.unwrap_or(1),
        now,
    );
    set_condition(&mut shown, condition);
    let Some(refusal) = shown.into_iter().find(|condition| condition.type_ == READY) else {
        return;
    };
    match conditions.iter_mut().find(|condition| condition.type_ == READY) {
        Some(existing) => *existing = refusal,
        None => conditions.push(refusal),
    }
    problems.extend(refused.iter().cloned());
}
