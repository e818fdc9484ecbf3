//! The `rewards` half of the projection: upsert under the Event's row (or
//! nothing when the Event is missing), soft delete; `claimed` untouched.

use liveops_domain::crd::RewardSpec;
use sqlx::PgPool;
use uuid::Uuid;

use super::violates;
use crate::error::{Error, Result};

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
