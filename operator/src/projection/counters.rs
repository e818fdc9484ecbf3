//! Counters the claim transaction keeps, read back for status mirroring:
//! `events.claims_total` of every live event, and `rewards.claimed` of the
//! rewards under the events whose total moved.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::error::Result;

/// A live reward's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewardCounters {
    pub claimed: i64,
    pub quantity: Option<i64>,
}

/// `claims_total` of every live event row by `(namespace, name)`: one
/// narrow scan, so a pass can tell which events saw claims.
pub async fn live_claims_totals(db: &PgPool) -> Result<HashMap<(String, String), i64>> {
    let rows = sqlx::query!("select namespace, name, claims_total from events where deleted_at is null")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ((row.namespace, row.name), i64::from(row.claims_total)))
        .collect())
}

/// Counters of the live rewards under the events `(namespace, name)`, as
/// `(namespace, event, reward)` and counters. A claim moves its reward's `claimed`
/// and its event's `claims_total` in one transaction, so the rewards under
/// events whose total did not move need not be read.
pub async fn reward_counters_under(
    db: &PgPool,
    events: &[(String, String)],
) -> Result<Vec<((String, String, String), RewardCounters)>> {
    let (namespaces, names): (Vec<String>, Vec<String>) = events.iter().cloned().unzip();
    let rows = sqlx::query!(
        "select r.namespace, e.name as event, r.name, r.claimed, r.quantity
         from rewards r
         join events e on e.id = r.event_id
         join unnest($1::text[], $2::text[]) as moved(namespace, name)
           on e.namespace = moved.namespace and e.name = moved.name
         where r.deleted_at is null",
        &namespaces,
        &names,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let counters = RewardCounters {
                claimed: i64::from(row.claimed),
                quantity: row.quantity.map(i64::from),
            };
            ((row.namespace, row.event, row.name), counters)
        })
        .collect())
}
