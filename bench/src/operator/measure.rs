//! What the operator bench observes: counts with deadlines, lags from the
//! database's own timestamps, and simulated claims.

use std::time::Duration;

use anyhow::ensure;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::time::Instant;

/// `select count(*)` of `sql`.
pub async fn count(db: &PgPool, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(db).await?)
}

/// Polls `check` every 10 ms until it holds; the time it took.
pub async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let began = Instant::now();
    while !check().await? {
        ensure!(
            began.elapsed() < within,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(began.elapsed())
}

/// Polls until `sql` counts at least `wanted`; the time it took.
pub async fn wait_count(
    db: &PgPool,
    sql: &'static str,
    wanted: i64,
    within: Duration,
) -> anyhow::Result<Duration> {
    wait_for(sql, within, || async move { Ok(count(db, sql).await? >= wanted) }).await
}

/// Milliseconds from `boundary` to the last `updated_at` of the rows now
/// Active: when the last of them flipped, by the database's clock.
pub async fn last_flip_lag_ms(db: &PgPool, boundary: DateTime<Utc>) -> anyhow::Result<f64> {
    let last: DateTime<Utc> = sqlx::query_scalar("select max(updated_at) from events where phase = 'Active'")
        .fetch_one(db)
        .await?;
    Ok((last - boundary).num_microseconds().unwrap_or(0) as f64 / 1000.0)
}

/// Claims one unit of every `every`-th reward as the claim transaction
/// would count it (`rewards.claimed` and `events.claims_total` in one
/// transaction); the number of rewards claimed.
pub async fn claim_every(db: &PgPool, every: i64) -> anyhow::Result<i64> {
    let mut tx = db.begin().await?;
    let claimed = sqlx::query(
        "with picked as (
             select id, event_id from (
                 select id, event_id, row_number() over (order by name) as n from rewards
             ) numbered where n % $1 = 0
         ), counted as (
             update rewards r set claimed = r.claimed + 1 from picked where r.id = picked.id
             returning r.event_id
         )
         update events e set claims_total = e.claims_total + c.claims
         from (select event_id, count(*)::int as claims from counted group by event_id) c
         where e.id = c.event_id",
    )
    .bind(every)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let rewards = count(db, "select count(*) from rewards where claimed = 1").await?;
    ensure!(claimed.rows_affected() > 0, "no reward was claimed");
    Ok(rewards)
}
