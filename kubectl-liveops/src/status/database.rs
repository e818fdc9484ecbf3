//! `status` from the liveops database (works in manifests mode too): the
//! `events` and `rewards` tables the operator projects into.

use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};

use super::{EventStatusLine, RewardStock, Scope, remaining};
use crate::Result;

/// One connection is all a report needs; an unreachable database is
/// reported after 10 s rather than the pool's default 30.
pub async fn connect(url: &str) -> Result<PgPool> {
    let options = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10));
    Ok(options.connect(url).await?)
}

/// The live (not deleted) events of `scope` with their rewards, by
/// namespace, start and name.
pub async fn read(db: &PgPool, scope: &Scope) -> Result<Vec<EventStatusLine>> {
    let namespace = match scope {
        Scope::Namespace(namespace) => Some(namespace.clone().unwrap_or_else(|| "default".to_owned())),
        Scope::All => None,
    };
    let events = sqlx::query!(
        r#"select e.id, e.namespace, e.name, e.phase::text as "phase!", e.starts_at, e.ends_at
           from events e
           where e.deleted_at is null and ($1::text is null or e.namespace = $1)
           order by e.namespace, e.starts_at, e.name"#,
        namespace,
    )
    .fetch_all(db)
    .await?;
    let rewards = sqlx::query!(
        r#"select r.event_id, r.name, r.claimed, r.quantity
           from rewards r
           where r.deleted_at is null and ($1::text is null or r.namespace = $1)
           order by r.name"#,
        namespace,
    )
    .fetch_all(db)
    .await?;
    Ok(events
        .into_iter()
        .map(|event| EventStatusLine {
            rewards: rewards
                .iter()
                .filter(|reward| reward.event_id == event.id)
                .map(|reward| RewardStock {
                    name: reward.name.clone(),
                    claimed: i64::from(reward.claimed),
                    quantity: reward.quantity.map(i64::from),
                    remaining: remaining(reward.quantity.map(i64::from), i64::from(reward.claimed)),
                })
                .collect(),
            namespace: event.namespace,
            name: event.name,
            phase: event.phase,
            starts_at: event.starts_at,
            ends_at: event.ends_at,
        })
        .collect())
}
