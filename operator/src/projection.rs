//! What goes into PostgreSQL: idempotent upserts and soft deletes of events
//! and rewards (migrations/0004), webhook endpoints (migrations/0031),
//! counters and ingest clients (migrations/0037), and the claim counters,
//! delivery health and signal activity read back for status.
//!
//! A definition's row is found by `(namespace, name)` (unique, soft-deleted
//! rows included, since migrations/0022), never by object uid: deleting and
//! re-creating an object lands on its old row, which keeps its id and its
//! ledger (DESIGN.md, "Claims: integrity on every path"). New rows get
//! [`definition_id`]. Nothing here ever writes `rewards.claimed` or
//! `events.claims_total`: only the claim transaction does, so neither
//! editing `quantity` nor re-creating an object resets a count.

mod activity;
mod counter;
mod counters;
mod event_batch;
mod ids;
mod ingest_client;
mod phase;
mod reward;
mod reward_batch;
mod webhook;

use liveops_domain::{
    ClaimFrequency,
    crd::{EventPhase, EventSpec},
};
use sqlx::PgPool;

pub use self::{
    activity::{CounterActivity, SignalActivity, counter_activity, ingest_client_activity},
    counter::{CounterProjection, CounterRow, soft_delete_counter, upsert_counter},
    counters::{RewardCounters, live_claims_totals, reward_counters_under},
    event_batch::{ProjectedEvent, upsert_events},
    ids::{Kind, definition_id, definition_key, namespace_of},
    ingest_client::{
        IngestClientRow, soft_delete_ingest_client, suspend_ingest_client, upsert_ingest_client,
    },
    phase::{Flipped, FlippedEvent, TransitionLag, flip_phases},
    reward::{RewardProjection, RewardRow, requires_value, soft_delete_reward, upsert_reward},
    reward_batch::upsert_rewards,
    webhook::{
        WebhookHealth, WebhookRow, all_webhook_health, soft_delete_webhook_endpoint, stop_webhook_endpoint,
        upsert_webhook_endpoint, webhook_health,
    },
};
use crate::error::Result;

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
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a EventSpec,
    pub phase: EventPhase,
    pub generation: i64,
}

/// Inserts or updates the event row of `namespace/name` (un-deleting it),
/// touching nothing when the row already matches, and returns its
/// `claims_total`. An existing row keeps its id, so a re-created Event keeps
/// its claims, its rewards and `claims_total`.
pub async fn upsert_event(db: &PgPool, row: EventRow<'_>) -> Result<ProjectedEvent> {
    // one statement for one row or many: the batch of one
    let key = (row.namespace.to_owned(), row.name.to_owned());
    upsert_events(db, &[row])
        .await?
        .remove(&key)
        .ok_or_else(|| sqlx::Error::RowNotFound.into())
}

/// Marks an existing event row Invalid and suspended, so no claim passes
/// while its spec cannot be scheduled; the last valid spec fields stay. An
/// invalid Event that never had a row gets none.
pub async fn mark_event_invalid(db: &PgPool, namespace: &str, name: &str, generation: i64) -> Result<()> {
    sqlx::query!(
        "update events set phase = 'Invalid', suspended = true, generation = $3, updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null
           and (phase, suspended, generation) is distinct from ('Invalid'::event_phase, true, $3)",
        namespace,
        name,
        generation,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// `events.claims_total` of a live event row, if there is one.
pub async fn event_claims_total(db: &PgPool, namespace: &str, name: &str) -> Result<Option<i64>> {
    let total = sqlx::query_scalar!(
        "select claims_total from events where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .fetch_optional(db)
    .await?;
    Ok(total.map(i64::from))
}

/// Soft-deletes an event row; its rewards and claims stay for history, and
/// re-creating the Event revives the row.
pub async fn soft_delete_event(db: &PgPool, namespace: &str, name: &str) -> Result<()> {
    sqlx::query!(
        "update events set deleted_at = now(), updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
#[path = "projection/batch_tests.rs"]
mod batch_tests;
#[cfg(test)]
#[path = "projection/identity_tests.rs"]
mod identity_tests;
#[cfg(test)]
#[path = "projection/requires_tests.rs"]
mod requires_tests;
#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
