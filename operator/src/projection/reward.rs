//! The `rewards` half of the projection: upsert under the Event's row (or
//! nothing when the Event is missing, or when the reward's ledger belongs to
//! another Event), soft delete; `claimed` untouched.

use liveops_domain::crd::{Payload, RewardSpec};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Kind, definition_id};
use crate::error::Result;

/// One Reward as it should stand in `rewards`.
#[derive(Clone, Copy, Debug)]
pub struct RewardRow<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a RewardSpec,
    pub generation: i64,
}

/// What projecting a Reward found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RewardProjection {
    /// The row is live; the counters as the claim transaction left them.
    Projected { claimed: i64, quantity: Option<i64> },
    /// `eventRef` names no live Event in the namespace: nothing was written.
    EventNotFound,
    /// The reward's row, live or soft-deleted, belongs to `event`, not to the
    /// Event `eventRef` names: nothing was written. A reward's event is fixed
    /// for the life of its ledger (RewardSpec.eventRef), and re-creating the
    /// object under the same name must not move its claims and stock to
    /// another event.
    EventRefChanged { event: String },
}

/// Inserts or updates the reward row of `namespace/name` under its Event's
/// row, never touching `claimed`, keeping the row's id; writes nothing when
/// the referenced Event has no live row or the row belongs to another Event.
pub async fn upsert_reward(db: &PgPool, row: RewardRow<'_>) -> Result<RewardProjection> {
    let found = sqlx::query!(
        "select (select id from events
                 where namespace = $1 and name = $3 and deleted_at is null) as event_id,
                (select e.name from rewards r join events e on e.id = r.event_id
                 where r.namespace = $1 and r.name = $2) as ledger_event",
        row.namespace,
        row.name,
        row.spec.event_ref.name,
    )
    .fetch_one(db)
    .await?;
    if let Some(event) = found.ledger_event
        && event != row.spec.event_ref.name
    {
        return Ok(RewardProjection::EventRefChanged { event });
    }
    let Some(event_id) = found.event_id else {
        return Ok(RewardProjection::EventNotFound);
    };
    let stored = write_reward(db, row, event_id).await?;
    if stored.event_id != event_id {
        // Another writer created the row under another event in between.
        let event = sqlx::query_scalar!("select name from events where id = $1", stored.event_id)
            .fetch_one(db)
            .await?;
        return Ok(RewardProjection::EventRefChanged { event });
    }
    Ok(RewardProjection::Projected {
        claimed: stored.claimed,
        quantity: stored.quantity,
    })
}

/// The reward row as stored after the upsert.
struct Stored {
    event_id: Uuid,
    claimed: i64,
    quantity: Option<i64>,
}

/// The reward upsert itself. The conflict update only applies under the
/// same event, so the row's event can never change here.
async fn write_reward(db: &PgPool, row: RewardRow<'_>, event_id: Uuid) -> Result<Stored> {
    let spec = row.spec;
    let stored = sqlx::query!(
        "with upserted as (
             insert into rewards (id, event_id, namespace, name, display_name, description, quantity,
                                  per_user_limit, payload, generation, requires)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             on conflict (namespace, name) do update set
                 display_name = excluded.display_name, description = excluded.description,
                 quantity = excluded.quantity, per_user_limit = excluded.per_user_limit,
                 payload = excluded.payload, generation = excluded.generation,
                 requires = excluded.requires, deleted_at = null, updated_at = now()
             where rewards.event_id = excluded.event_id
               and (rewards.display_name, rewards.description, rewards.quantity, rewards.per_user_limit,
                    rewards.payload, rewards.generation, rewards.requires, rewards.deleted_at)
                   is distinct from
                   (excluded.display_name, excluded.description, excluded.quantity,
                    excluded.per_user_limit, excluded.payload, excluded.generation, excluded.requires,
                    null::timestamptz)
             returning event_id, claimed, quantity
         )
         select event_id as \"event_id!\", claimed as \"claimed!\", quantity from upserted
         union all
         select event_id, claimed, quantity from rewards
         where namespace = $3 and name = $4 and not exists (select 1 from upserted)",
        definition_id(Kind::Reward, row.namespace, row.name),
        event_id,
        row.namespace,
        row.name,
        spec.display_name,
        spec.description,
        spec.quantity,
        spec.per_user_limit,
        spec.payload.as_ref().map(Payload::to_value),
        row.generation,
        requires_value(spec),
    )
    .fetch_one(db)
    .await?;
    Ok(Stored {
        event_id: stored.event_id,
        claimed: i64::from(stored.claimed),
        quantity: stored.quantity.map(i64::from),
    })
}

/// `spec.requires` as `rewards.requires` stores it (null when absent),
/// the JSON the claim statement walks (migration 0038).
pub fn requires_value(spec: &RewardSpec) -> Option<serde_json::Value> {
    spec.requires
        .as_ref()
        .map(|requires| serde_json::to_value(requires).expect("a requirement tree serialises"))
}

/// Soft-deletes a reward row; its claims stay for history, and re-creating
/// the Reward (with the same eventRef) revives the row.
pub async fn soft_delete_reward(db: &PgPool, namespace: &str, name: &str) -> Result<()> {
    sqlx::query!(
        "update rewards set deleted_at = now(), updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}
