//! The baselines the operator's figures are divided by, measured in the
//! same run: the catalogue's rows written by raw batched upserts (what the
//! projection cannot beat: no parsing, validation or status), and one raw
//! UPDATE flipping every row of a boundary.

use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::catalogue::{Catalogue, NAMESPACE};

/// Rows per statement, as the operator batches.
const BATCH: usize = 1_000;

/// Time to upsert every row of `catalogue` into `db` (fresh, migrated), in
/// batches of [`BATCH`] rows per statement, events first.
pub async fn raw_batched_upserts(db: &PgPool, catalogue: &Catalogue) -> anyhow::Result<Duration> {
    let began = Instant::now();
    let indices: Vec<usize> = (0..catalogue.events).collect();
    for chunk in indices.chunks(BATCH) {
        let names: Vec<String> = chunk.iter().map(|&i| Catalogue::event_name(i)).collect();
        sqlx::query(
            "insert into events (id, namespace, name, display_name, starts_at, ends_at, time_zone,
                                 condition, phase, generation)
             select gen_random_uuid(), $1, name, name, $2, $3, 'Asia/Seoul',
                    '{\"loginStreak\":{\"days\":7}}', 'Scheduled', 1
             from unnest($4::text[]) as t(name)
             on conflict (namespace, name) do update set display_name = excluded.display_name",
        )
        .bind(NAMESPACE)
        .bind(catalogue.starts_at)
        .bind(catalogue.ends_at())
        .bind(&names)
        .execute(db)
        .await?;
    }
    let rewards: Vec<(usize, usize)> = (0..catalogue.events)
        .flat_map(|event| (0..catalogue.rewards_per_event).map(move |reward| (event, reward)))
        .collect();
    for chunk in rewards.chunks(BATCH) {
        let names: Vec<String> = chunk.iter().map(|&(e, r)| Catalogue::reward_name(e, r)).collect();
        let events: Vec<String> = chunk.iter().map(|&(e, _)| Catalogue::event_name(e)).collect();
        sqlx::query(
            "insert into rewards (id, event_id, namespace, name, display_name, quantity, payload, generation)
             select gen_random_uuid(), e.id, $1, t.name, t.name, 1000, '{\"itemCode\":\"GOLD\"}', 1
             from unnest($2::text[], $3::text[]) as t(name, event)
             join events e on e.namespace = $1 and e.name = t.event
             on conflict (namespace, name) do update set display_name = excluded.display_name",
        )
        .bind(NAMESPACE)
        .bind(&names)
        .bind(&events)
        .execute(db)
        .await?;
    }
    Ok(began.elapsed())
}

/// Time for one raw UPDATE setting every event row of `db` Active.
pub async fn raw_flip(db: &PgPool) -> anyhow::Result<Duration> {
    let began = Instant::now();
    sqlx::query("update events set phase = 'Active', updated_at = now() where phase <> 'Active'")
        .execute(db)
        .await?;
    Ok(began.elapsed())
}
