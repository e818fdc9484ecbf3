//! What goes into PostgreSQL: idempotent upserts and soft deletes of events
//! and rewards (migrations/0004), and the counters read back for status.
//!
//! Rows are keyed by the object's uid in a cluster, or by a UUIDv5 of
//! `namespace/name` per kind in manifests mode ([`object_id`]). Nothing here
//! ever writes `rewards.claimed` or `events.claims_total`: only the claim
//! transaction does, so editing `quantity` in YAML never resets a count.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use liveops_domain::{
    ClaimFrequency,
    crd::{EventPhase, EventSpec, RewardSpec},
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The two kinds, for ids and the resource_status table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Event,
    Reward,
}

impl Kind {
    /// The kind's name as in `kind:` and resource_status.kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "Event",
            Self::Reward => "Reward",
        }
    }
}

/// `metadata.namespace`, defaulting like kubectl does.
pub fn namespace_of(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

/// The row id of an object: its uid when it has one (cluster), otherwise a
/// UUIDv5 of `namespace/name` in a per-kind namespace (manifests mode), so a
/// manifests file keeps its row across restarts.
pub fn object_id(kind: Kind, meta: &ObjectMeta) -> Result<Uuid> {
    if let Some(uid) = meta.uid.as_deref().and_then(|uid| Uuid::parse_str(uid).ok()) {
        return Ok(uid);
    }
    let name = meta.name.as_deref().ok_or(Error::MissingMetadata("name"))?;
    Ok(manifest_id(kind, namespace_of(meta), name))
}

/// The stable id manifests mode gives `namespace/name` of `kind`.
pub fn manifest_id(kind: Kind, namespace: &str, name: &str) -> Uuid {
    let kind_space = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://liveops.dev/{}", kind.as_str()).as_bytes(),
    );
    Uuid::new_v5(&kind_space, format!("{namespace}/{name}").as_bytes())
}

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
fn violates(error: &sqlx::Error, constraint: &str) -> bool {
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

/// One Reward as it should stand in `rewards`.
#[derive(Clone, Copy, Debug)]
pub struct RewardRow<'a> {
    pub id: Uuid,
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a RewardSpec,
    pub generation: i64,
}

/// What projecting a Reward found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RewardProjection {
    /// The row is live; the counters as the claim transaction left them.
    Projected { claimed: i64, quantity: Option<i64> },
    /// `eventRef` names no live Event in the namespace: nothing was written.
    EventNotFound,
}

/// Inserts or updates the reward row under its Event's id, never touching
/// `claimed`; writes nothing when the referenced Event has no live row.
pub async fn upsert_reward(db: &PgPool, row: RewardRow<'_>) -> Result<RewardProjection> {
    let spec = row.spec;
    let event_id = sqlx::query_scalar!(
        "select id from events where namespace = $1 and name = $2 and deleted_at is null",
        row.namespace,
        spec.event_ref.name,
    )
    .fetch_optional(db)
    .await?;
    let Some(event_id) = event_id else {
        return Ok(RewardProjection::EventNotFound);
    };
    let counters = match write_reward(db, row, event_id).await {
        Err(Error::Database(error)) if violates(&error, "rewards_live_name_key") => {
            let mut tx = db.begin().await?;
            sqlx::query!(
                "update rewards set deleted_at = now(), updated_at = now()
                 where namespace = $1 and name = $2 and id <> $3 and deleted_at is null",
                row.namespace,
                row.name,
                row.id,
            )
            .execute(&mut *tx)
            .await?;
            let counters = write_reward(&mut *tx, row, event_id).await?;
            tx.commit().await?;
            counters
        }
        other => other?,
    };
    Ok(RewardProjection::Projected {
        claimed: counters.0,
        quantity: counters.1,
    })
}

/// The reward upsert itself; returns `(claimed, quantity)` as stored.
async fn write_reward<'e>(
    db: impl sqlx::PgExecutor<'e>,
    row: RewardRow<'_>,
    event_id: Uuid,
) -> Result<(i64, Option<i64>)> {
    let spec = row.spec;
    let counters = sqlx::query!(
        "with upserted as (
             insert into rewards (id, event_id, namespace, name, display_name, description, quantity,
                                  per_user_limit, payload, generation)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             on conflict (id) do update set
                 event_id = excluded.event_id, namespace = excluded.namespace, name = excluded.name,
                 display_name = excluded.display_name, description = excluded.description,
                 quantity = excluded.quantity, per_user_limit = excluded.per_user_limit,
                 payload = excluded.payload, generation = excluded.generation,
                 deleted_at = null, updated_at = now()
             where (rewards.event_id, rewards.namespace, rewards.name, rewards.display_name,
                    rewards.description, rewards.quantity, rewards.per_user_limit, rewards.payload,
                    rewards.generation, rewards.deleted_at)
               is distinct from
                   (excluded.event_id, excluded.namespace, excluded.name, excluded.display_name,
                    excluded.description, excluded.quantity, excluded.per_user_limit, excluded.payload,
                    excluded.generation, null::timestamptz)
             returning claimed, quantity
         )
         select claimed as \"claimed!\", quantity from upserted
         union all
         select claimed, quantity from rewards where id = $1 and not exists (select 1 from upserted)",
        row.id,
        event_id,
        row.namespace,
        row.name,
        spec.display_name,
        spec.description,
        spec.quantity,
        spec.per_user_limit,
        spec.payload,
        row.generation,
    )
    .fetch_one(db)
    .await?;
    Ok((i64::from(counters.claimed), counters.quantity.map(i64::from)))
}

/// Soft-deletes a reward row; its claims stay for history.
pub async fn soft_delete_reward(db: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(
        "update rewards set deleted_at = now(), updated_at = now() where id = $1 and deleted_at is null",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
