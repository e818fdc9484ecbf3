//! The reconcile of an object whose spec this process already projected:
//! the row is known to match, so only the counters are read back (one
//! indexed select instead of the upsert's lookups and conflict check).
//! `None` sends the caller down the full path (row gone, spec invalid).

use chrono::{DateTime, Utc};
use liveops_domain::crd::{Event, Reward};
use sqlx::PgPool;

use super::{EventOutcome, RewardOutcome, event_outcome, reward_outcome};
use crate::{
    error::Result,
    projection::{self, RewardProjection},
    schedule::schedule_at,
};

/// An Event's outcome from its live row's counters.
pub async fn refresh_event(db: &PgPool, event: &Event, now: DateTime<Utc>) -> Result<Option<EventOutcome>> {
    let (namespace, name) = projection::definition_key(&event.metadata)?;
    let schedule = schedule_at(&event.spec, now);
    if !schedule.problems.is_empty() {
        return Ok(None);
    }
    let row = sqlx::query!(
        "select id, claims_total from events where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| {
        let total = i64::from(row.claims_total);
        event_outcome(event, schedule, Some(total), Some(row.id), now)
    }))
}

/// A Reward's outcome from its live row's counters, when the row is live
/// under the live Event its spec names.
pub async fn refresh_reward(
    db: &PgPool,
    reward: &Reward,
    now: DateTime<Utc>,
) -> Result<Option<RewardOutcome>> {
    let (namespace, name) = projection::definition_key(&reward.metadata)?;
    let row = sqlx::query!(
        "select r.claimed, r.quantity
         from rewards r join events e on e.id = r.event_id
         where r.namespace = $1 and r.name = $2 and r.deleted_at is null
           and e.name = $3 and e.deleted_at is null",
        namespace,
        name,
        reward.spec.event_ref.name,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| {
        let projected = RewardProjection::Projected {
            claimed: i64::from(row.claimed),
            quantity: row.quantity.map(i64::from),
        };
        reward_outcome(reward, Some(projected), Vec::new(), now)
    }))
}
