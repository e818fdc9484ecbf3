//! The per-client signal budget (`ingest_clients.signals_per_minute`),
//! counted in the shared `rate_limit_counters` table so every replica
//! spends the same budget. It also answers whether the client may still
//! post at all: a suspended or deleted client's tokens stop working at once.

use sqlx::PgPool;
use uuid::Uuid;

/// What the budget check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The signals fit in this minute's budget and have been counted.
    Granted,
    /// Over budget; retry after this many seconds.
    Exhausted {
        /// Seconds until the window resets.
        retry_after_seconds: u64,
    },
    /// The client is suspended, deleted or unknown.
    ClientGone,
}

/// Counts `signals` against the client's budget for the current minute.
pub async fn spend(db: &PgPool, client_id: Uuid, signals: usize) -> sqlx::Result<Budget> {
    let signals = i32::try_from(signals).unwrap_or(i32::MAX);
    let row = sqlx::query!(
        r#"with client as (
               select signals_per_minute from ingest_clients
               where id = $1 and not suspended and deleted_at is null
           ),
           bumped as (
               insert into rate_limit_counters as counter (bucket, window_start, hits)
               select 'signals:client:' || $1::text, date_trunc('minute', now()), $2 from client
               on conflict (bucket, window_start) do update set hits = counter.hits + excluded.hits
               returning counter.hits
           )
           select
               (select signals_per_minute from client) as per_minute,
               (select hits from bumped) as hits,
               ceil(extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now()))::bigint
                   as "seconds_left!""#,
        client_id,
        signals,
    )
    .fetch_one(db)
    .await?;
    let (Some(per_minute), Some(hits)) = (row.per_minute, row.hits) else {
        return Ok(Budget::ClientGone);
    };
    if hits > per_minute {
        let retry_after_seconds = u64::try_from(row.seconds_left.max(1)).unwrap_or(60);
        return Ok(Budget::Exhausted { retry_after_seconds });
    }
    Ok(Budget::Granted)
}
