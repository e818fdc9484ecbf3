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

/// How late one transition landed: the phase entered (`Active` or
/// `Ended`, the time-driven ones) and the seconds from its boundary to the
/// write, by the database's clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransitionLag {
    pub entered: &'static str,
    pub seconds: f64,
}

/// What one flip wrote: the events moved, and how late each time-driven
/// transition among them landed.
#[derive(Clone, Debug, Default)]
pub struct Flipped {
    pub events: Vec<FlippedEvent>,
    pub lags: Vec<TransitionLag>,
}

impl Flipped {
    /// Events moved.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no row changed phase.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Sets the phase of the live, valid rows among `ids` from their window at
/// `now` (the rule of `schedule::schedule_at`: half-open window, Ended wins
/// over suspend, suspend over Scheduled/Active), writing only rows whose
/// phase changes, and returns those.
pub async fn flip_phases(db: &PgPool, ids: &[Uuid], now: DateTime<Utc>) -> Result<Flipped> {
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
         returning e.namespace, e.name, e.phase::text as \"phase!\",
                   extract(epoch from clock_timestamp() - case e.phase when 'Active' then e.starts_at
                                                                      when 'Ended' then e.ends_at end
                   )::float8 as lag",
        ids,
        now,
    )
    .fetch_all(db)
    .await?;
    let mut flipped = Flipped::default();
    for row in rows {
        let entered = match row.phase.as_str() {
            "Active" => Some("Active"),
            "Ended" => Some("Ended"),
            _ => None,
        };
        if let (Some(entered), Some(seconds)) = (entered, row.lag) {
            flipped.lags.push(TransitionLag { entered, seconds });
        }
        flipped.events.push(FlippedEvent {
            namespace: row.namespace,
            name: row.name,
        });
    }
    Ok(flipped)
}
