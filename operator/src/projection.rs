//! What goes into PostgreSQL: idempotent upserts and soft deletes of events
//! and rewards (migrations/0004), and the counters read back for status.
//!
//! Rows are keyed by the object's uid in a cluster, or by a UUIDv5 of
//! `namespace/name` per kind in manifests mode ([`object_id`]). Nothing here
//! ever writes `rewards.claimed` or `events.claims_total`: only the claim
//! transaction does, so editing `quantity` in YAML never resets a count.

mod ids;
mod reward;

use liveops_domain::{
    ClaimFrequency,
    crd::{EventPhase, EventSpec},
};
use sqlx::PgPool;
use uuid::Uuid;

pub use self::{
    ids::{Kind, manifest_id, namespace_of, object_id},
    reward::{RewardProjection, RewardRow, soft_delete_reward, upsert_reward},
};
use crate::error::{Error, Result};

fn frequency_name(frequency: ClaimFrequency) -> &'static str {
    match frequency {
        ClaimFrequency::Once => "Once",
        ClaimFrequency::Daily => "Daily",
        ClaimFrequency::Weekly => "Weekly",
    }
}

/// One Event as it should stand in `events`.
#[derive(Clone, Copy, Debug)]
pub struct EventRow<'a> {
    pub id: Uuid,
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a EventSpec,
    pub phase: EventPhase,
    pub generation: i64,
}

/// Inserts or updates the event row (un-deleting it), touching nothing when
/// the row already matches, and returns its `claims_total`. A live row of
/// the same namespace/name under another id (the object was re-created, so
/// its uid changed) is retired first; that rare case costs a transaction,
/// the common one a single statement.
pub async fn upsert_event(db: &PgPool, row: EventRow<'_>) -> Result<i64> {
    match write_event(db, row).await {
        Err(Error::Database(error)) if violates(&error, "events_live_name_key") => {
            let mut tx = db.begin().await?;
            sqlx::query!(
                "update events set deleted_at = now(), updated_at = now()
                 where namespace = $1 and name = $2 and id <> $3 and deleted_at is null",
                row.namespace,
                row.name,
                row.id,
            )
            .execute(&mut *tx)
            .await?;
            let total = write_event(&mut *tx, row).await?;
            tx.commit().await?;
            Ok(total)
        }
        other => other,
    }
}

/// Whether `error` is a unique violation of `constraint`.
pub(crate) fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    error.as_database_error().and_then(|error| error.constraint()) == Some(constraint)
}

async fn write_event<'e>(db: impl sqlx::PgExecutor<'e>, row: EventRow<'_>) -> Result<i64> {
    let spec = row.spec;
    let condition = serde_json::to_value(spec.condition.clone().unwrap_or_default())?;
    let total = sqlx::query_scalar!(
        "with upserted as (
         insert into events (id, namespace, name, display_name, description, starts_at, ends_at,
                             time_zone, condition, claim_frequency, suspended, max_claims, phase, generation)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::claim_frequency, $11, $12,
                 $13::text::event_phase, $14)
         on conflict (id) do update set
             namespace = excluded.namespace, name = excluded.name,
             display_name = excluded.display_name, description = excluded.description,
             starts_at = excluded.starts_at, ends_at = excluded.ends_at, time_zone = excluded.time_zone,
             condition = excluded.condition, claim_frequency = excluded.claim_frequency,
             suspended = excluded.suspended, max_claims = excluded.max_claims,
             phase = excluded.phase, generation = excluded.generation,
             deleted_at = null, updated_at = now()
         where (events.namespace, events.name, events.display_name, events.description, events.starts_at,
                events.ends_at, events.time_zone, events.condition, events.claim_frequency, events.suspended,
                events.max_claims, events.phase, events.generation, events.deleted_at)
           is distinct from
               (excluded.namespace, excluded.name, excluded.display_name, excluded.description,
                excluded.starts_at, excluded.ends_at, excluded.time_zone, excluded.condition,
                excluded.claim_frequency, excluded.suspended, excluded.max_claims, excluded.phase,
                excluded.generation, null::timestamptz)
         returning claims_total
         )
         select claims_total as \"claims_total!\" from upserted
         union all
         select claims_total from events where id = $1 and not exists (select 1 from upserted)",
        row.id,
        row.namespace,
        row.name,
        spec.display_name,
        spec.description,
        spec.starts_at,
        spec.ends_at,
        spec.time_zone,
        condition,
        frequency_name(spec.claim_policy.frequency),
        spec.suspend,
        spec.max_claims,
        row.phase.as_str(),
        row.generation,
    )
    .fetch_one(db)
    .await?;
    Ok(i64::from(total))
}

/// Marks an existing event row Invalid and suspended, so no claim passes
/// while its spec cannot be scheduled; the last valid spec fields stay. An
/// invalid Event that never had a row gets none.
pub async fn mark_event_invalid(db: &PgPool, id: Uuid, generation: i64) -> Result<()> {
    sqlx::query!(
        "update events set phase = 'Invalid', suspended = true, generation = $2, updated_at = now()
         where id = $1 and deleted_at is null
           and (phase, suspended, generation) is distinct from ('Invalid'::event_phase, true, $2)",
        id,
        generation,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// `events.claims_total` of a live event row, if there is one.
pub async fn event_claims_total(db: &PgPool, id: Uuid) -> Result<Option<i64>> {
    let total = sqlx::query_scalar!(
        "select claims_total from events where id = $1 and deleted_at is null",
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(total.map(i64::from))
}

/// `claims_total` of every live event row, for a cheap resync.
pub async fn live_claims_totals(db: &PgPool) -> Result<std::collections::HashMap<Uuid, i64>> {
    let rows = sqlx::query!("select id, claims_total from events where deleted_at is null")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.id, i64::from(row.claims_total)))
        .collect())
}

/// Soft-deletes an event row; its rewards and claims stay for history.
pub async fn soft_delete_event(db: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(
        "update events set deleted_at = now(), updated_at = now() where id = $1 and deleted_at is null",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
