//! The phase timer's write: every due event row moved to the phase its
//! window gives at one instant, in one statement.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Result;

/// An event row whose phase the timer moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlippedEvent {
    pub namespace: String,
    pub name: String,
}

/// Sets the phase of the live, valid rows among `ids` from their window at
/// `now` (the rule of `schedule::schedule_at`: half-open window, Ended wins
/// over suspend, suspend over Scheduled/Active), writing only rows whose
/// phase changes, and returns those.
pub async fn flip_phases(db: &PgPool, ids: &[Uuid], now: DateTime<Utc>) -> Result<Vec<FlippedEvent>> {
    let rows = sqlx::query!(
        "with due as (
             select id, (case when $2 >= ends_at then 'Ended'
                              when suspended then 'Suspended'
                              when $2 < starts_at then 'Scheduled'
                              else 'Active' end)::event_phase as phase
             from events
             where id = any($1) and deleted_at is null and phase <> 'Invalid'
         )
         update events e set phase = due.phase, updated_at = now()
         from due
         where e.id = due.id and e.phase <> due.phase
         returning e.namespace, e.name",
        ids,
        now,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| FlippedEvent {
            namespace: row.namespace,
            name: row.name,
        })
        .collect())
}
