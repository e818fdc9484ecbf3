//! Many Events into `events` with one statement: the batched form of
//! [`super::upsert_event`] (same conflict rule, same "write only what
//! differs"), used when many objects load at once (issue 15).

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, Utc};
use liveops_domain::crd::event_window::reset_time;
use sqlx::PgPool;
use uuid::Uuid;

use super::{EventRow, Kind, definition_id, frequency_name};
use crate::error::Result;

/// What one row holds after the upsert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectedEvent {
    /// The row's id (kept when the row existed, see `definition_id`).
    pub id: Uuid,
    pub claims_total: i64,
}

/// The statement's parameters, one array per column.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    namespace: Vec<String>,
    name: Vec<String>,
    display_name: Vec<String>,
    description: Vec<String>,
    starts_at: Vec<DateTime<Utc>>,
    ends_at: Vec<DateTime<Utc>>,
    announce_at: Vec<Option<DateTime<Utc>>>,
    claim_until: Vec<Option<DateTime<Utc>>>,
    reset_at: Vec<NaiveTime>,
    time_zone: Vec<String>,
    condition: Vec<serde_json::Value>,
    frequency: Vec<String>,
    max_rewards_per_user: Vec<Option<i32>>,
    suspended: Vec<bool>,
    max_claims: Vec<Option<i32>>,
    phase: Vec<String>,
    generation: Vec<i64>,
}

impl Columns {
    fn push(&mut self, row: &EventRow<'_>) -> Result<()> {
        let spec = row.spec;
        self.id.push(definition_id(Kind::Event, row.namespace, row.name));
        self.namespace.push(row.namespace.to_owned());
        self.name.push(row.name.to_owned());
        self.display_name.push(spec.display_name.clone());
        self.description.push(spec.description.clone());
        self.starts_at.push(spec.starts_at);
        self.ends_at.push(spec.ends_at);
        self.announce_at.push(spec.announce_at);
        self.claim_until.push(spec.claim_until);
        self.reset_at.push(reset_time(spec));
        self.time_zone.push(spec.time_zone.clone());
        self.condition
            .push(serde_json::to_value(spec.condition.clone().unwrap_or_default())?);
        self.frequency
            .push(frequency_name(spec.claim_policy.frequency).to_owned());
        self.max_rewards_per_user
            .push(spec.claim_policy.max_rewards_per_user);
        self.suspended.push(spec.suspend);
        self.max_claims.push(spec.max_claims);
        self.phase.push(row.phase.as_str().to_owned());
        self.generation.push(row.generation);
        Ok(())
    }
}

/// Upserts every row (keys must be distinct) and returns id and
/// `claims_total` by `(namespace, name)`.
pub async fn upsert_events(
    db: &PgPool,
    rows: &[EventRow<'_>],
) -> Result<HashMap<(String, String), ProjectedEvent>> {
    let mut columns = Columns::default();
    for row in rows {
        columns.push(row)?;
    }
    let stored = sqlx::query!(
        "with input as (
             select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::timestamptz[], $7::timestamptz[], $8::text[], $9::jsonb[],
                                  $10::text[], $11::int4[], $12::bool[], $13::int4[], $14::text[],
                                  $15::int8[], $16::timestamptz[], $17::timestamptz[], $18::time[])
                 as t(id, namespace, name, display_name, description, starts_at, ends_at, time_zone,
                      condition, claim_frequency, max_rewards_per_user, suspended, max_claims,
                      phase, generation, announce_at, claim_until, reset_at)
         ),
         upserted as (
             insert into events (id, namespace, name, display_name, description, starts_at, ends_at,
                                 time_zone, condition, claim_frequency, max_rewards_per_user,
                                 suspended, max_claims, phase, generation, announce_at, claim_until,
                                 reset_at)
             select id, namespace, name, display_name, description, starts_at, ends_at, time_zone,
                    condition, claim_frequency::claim_frequency, max_rewards_per_user, suspended,
                    max_claims, phase::event_phase, generation, announce_at, claim_until, reset_at
             from input
             on conflict (namespace, name) do update set
                 display_name = excluded.display_name, description = excluded.description,
                 starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                 time_zone = excluded.time_zone, condition = excluded.condition,
                 claim_frequency = excluded.claim_frequency,
                 max_rewards_per_user = excluded.max_rewards_per_user,
                 suspended = excluded.suspended, max_claims = excluded.max_claims,
                 phase = excluded.phase, generation = excluded.generation,
                 announce_at = excluded.announce_at, claim_until = excluded.claim_until,
                 reset_at = excluded.reset_at, deleted_at = null, updated_at = now()
             where (events.display_name, events.description, events.starts_at, events.ends_at,
                    events.time_zone, events.condition, events.claim_frequency,
                    events.max_rewards_per_user, events.suspended, events.max_claims, events.phase,
                    events.generation, events.announce_at, events.claim_until, events.reset_at,
                    events.deleted_at)
               is distinct from
                   (excluded.display_name, excluded.description, excluded.starts_at,
                    excluded.ends_at, excluded.time_zone, excluded.condition,
                    excluded.claim_frequency, excluded.max_rewards_per_user, excluded.suspended,
                    excluded.max_claims, excluded.phase, excluded.generation, excluded.announce_at,
                    excluded.claim_until, excluded.reset_at, null::timestamptz)
             returning id, namespace, name, claims_total
         )
         select id as \"id!\", namespace as \"namespace!\", name as \"name!\",
                claims_total as \"claims_total!\"
         from upserted
         union all
         select e.id, e.namespace, e.name, e.claims_total
         from events e join input i on e.namespace = i.namespace and e.name = i.name
         where not exists (select 1 from upserted u where u.namespace = e.namespace and u.name = e.name)",
        &columns.id,
        &columns.namespace,
        &columns.name,
        &columns.display_name,
        &columns.description,
        &columns.starts_at,
        &columns.ends_at,
        &columns.time_zone,
        &columns.condition,
        &columns.frequency,
        &columns.max_rewards_per_user as &[Option<i32>],
        &columns.suspended,
        &columns.max_claims as &[Option<i32>],
        &columns.phase,
        &columns.generation,
        &columns.announce_at as &[Option<DateTime<Utc>>],
        &columns.claim_until as &[Option<DateTime<Utc>>],
        &columns.reset_at,
    )
    .fetch_all(db)
    .await?;
    Ok(stored
        .into_iter()
        .map(|row| {
            let projected = ProjectedEvent {
                id: row.id,
                claims_total: i64::from(row.claims_total),
            };
            ((row.namespace, row.name), projected)
        })
        .collect())
}
