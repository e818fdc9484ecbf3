//! One object through the shared reconcile, its status stored in
//! `resource_status` and logged when it changed (what a cluster would hold).

use chrono::{DateTime, Utc};
use liveops_domain::crd::{Event, Reward, SpecProblem};
use sqlx::PgPool;

use super::{
    documents::{ObjectKey, Origin},
    status_store,
};
use crate::{
    error::Result,
    reconcile::{self, EventOutcome, RewardOutcome},
};

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
    now: DateTime<Utc>,
) -> Result<EventOutcome> {
    let outcome = reconcile::reconcile_event(db, event, now).await?;
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
    now: DateTime<Utc>,
) -> Result<RewardOutcome> {
    let outcome = reconcile::reconcile_reward(db, reward, now).await?;
    if reward.status.as_ref() != Some(&outcome.status) {
        let status = serde_json::to_value(&outcome.status)?;
        status_store::store(db, key, &status).await?;
        tracing::info!(kind = "Reward", namespace = %key.1, name = %key.2, %status, "status");
    }
    Ok(outcome)
}
