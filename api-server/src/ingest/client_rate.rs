//! The per-client signal budget (`ingest_clients.signals_per_minute`),
//! counted in the shared `rate_limit_counters` table so every replica
//! spends the same budget.
//!
//! A batch must cost one statement (issue 12), so the shared count is not
//! touched per batch: each replica counts its grants in memory and adds
//! them to the shared row at most every [`SYNC_INTERVAL`], reading back the
//! total every replica has spent. Within a replica the budget is exact;
//! across replicas it can be overshot by what the others grant within one
//! interval, the usual trade of a distributed limiter (Kong's `sync_rate`,
//! Envoy's local-plus-global limits). The sync also re-reads the client's
//! limit and notices a suspended or deleted client.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant},
};

use chrono::{DateTime, Timelike, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// How stale a replica's view of the shared count may get.
pub const SYNC_INTERVAL: Duration = Duration::from_millis(100);

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

/// Every client's budget as this replica sees it.
#[derive(Debug)]
pub struct SignalBudgets {
    clients: Mutex<HashMap<Uuid, ClientBudget>>,
    sync_interval: Duration,
}

impl Default for SignalBudgets {
    fn default() -> Self {
        Self::new(SYNC_INTERVAL)
    }
}

/// One client's minute, as of the last sync plus what was granted since.
#[derive(Debug, Clone, Copy)]
struct ClientBudget {
    minute: DateTime<Utc>,
    per_minute: i64,
    /// Every replica's grants this minute, as read at the last sync.
    shared_hits: i64,
    /// This replica's grants since then, not yet added to the shared row.
    unsynced: i64,
    synced_at: Instant,
    /// A request is syncing this budget now.
    syncing: bool,
}

impl SignalBudgets {
    /// Budgets synced with the shared row every `sync_interval` (zero:
    /// every batch).
    pub fn new(sync_interval: Duration) -> Self {
        Self {
            clients: Mutex::default(),
            sync_interval,
        }
    }

    /// Counts `signals` against the client's budget for the current minute.
    pub async fn spend(&self, db: &PgPool, client_id: Uuid, signals: usize) -> sqlx::Result<Budget> {
        let signals = i64::try_from(signals).unwrap_or(i64::MAX);
        let now = Utc::now();
        let minute = minute_of(now);
        let carried = {
            let mut clients = self.clients();
            match clients.get_mut(&client_id) {
                // Fresh enough, or another request is syncing it right now.
                Some(budget)
                    if budget.minute == minute
                        && (budget.syncing || budget.synced_at.elapsed() < self.sync_interval) =>
                {
                    return Ok(budget.spend_locally(signals, now));
                }
                Some(budget) if budget.minute == minute => {
                    budget.syncing = true;
                    std::mem::take(&mut budget.unsynced)
                }
                // Grants of an earlier minute no longer matter.
                _ => 0,
            }
        };
        let synced_at = Instant::now();
        let shared = match sync(db, client_id, minute, carried, signals).await {
            Ok(Some(shared)) => shared,
            Ok(None) => {
                self.forget(client_id);
                return Ok(Budget::ClientGone);
            }
            Err(error) => {
                self.sync_failed(client_id, minute, carried);
                return Err(error);
            }
        };
        self.record_sync(client_id, minute, &shared, synced_at);
        if !shared.granted {
            return Ok(Budget::Exhausted {
                retry_after_seconds: seconds_left(now),
            });
        }
        Ok(Budget::Granted)
    }

    /// Takes the shared row's figures from a sync begun at `synced_at`.
    fn record_sync(&self, client_id: Uuid, minute: DateTime<Utc>, shared: &Shared, synced_at: Instant) {
        let mut clients = self.clients();
        // Grants made here while this sync ran stay unsynced; an earlier
        // minute's do not matter.
        let unsynced = clients
            .get(&client_id)
            .filter(|budget| budget.minute == minute)
            .map_or(0, |budget| budget.unsynced);
        clients.insert(
            client_id,
            ClientBudget {
                minute,
                per_minute: shared.per_minute,
                shared_hits: shared.hits,
                unsynced,
                synced_at,
                syncing: false,
            },
        );
    }

    /// Keeps the grants a failed sync carried, for the next one.
    fn sync_failed(&self, client_id: Uuid, minute: DateTime<Utc>, carried: i64) {
        let mut clients = self.clients();
        if let Some(budget) = clients
            .get_mut(&client_id)
            .filter(|budget| budget.minute == minute)
        {
            budget.syncing = false;
            budget.unsynced += carried;
        }
    }

    /// The map; a panic while it was held left no half-written entry
    /// (every update is one assignment), so a poisoned lock is taken as is.
    fn clients(&self) -> MutexGuard<'_, HashMap<Uuid, ClientBudget>> {
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget(&self, client_id: Uuid) {
        let mut clients = self.clients();
        clients.remove(&client_id);
    }
}

impl ClientBudget {
    fn spend_locally(&mut self, signals: i64, now: DateTime<Utc>) -> Budget {
        if self.shared_hits + self.unsynced + signals > self.per_minute {
            return Budget::Exhausted {
                retry_after_seconds: seconds_left(now),
            };
        }
        self.unsynced += signals;
        Budget::Granted
    }
}

/// The shared row after a sync.
struct Shared {
    per_minute: i64,
    /// Every replica's grants this minute, this sync's included.
    hits: i64,
    /// Whether this batch fitted and was counted.
    granted: bool,
}

/// Adds `carried` earlier grants to the client's row for `minute`, and
/// `signals` when they fit (a refused batch is not counted); `None` when
/// the client is suspended, deleted or unknown.
async fn sync(
    db: &PgPool,
    client_id: Uuid,
    minute: DateTime<Utc>,
    carried: i64,
    signals: i64,
) -> sqlx::Result<Option<Shared>> {
    let row = sqlx::query!(
        r#"with client as (
               select signals_per_minute::int8 as per_minute from ingest_clients
               where id = $1 and not suspended and deleted_at is null
           ),
           fits as (
               select coalesce((select hits from rate_limit_counters
                                where bucket = 'signals:client:' || $1::text and window_start = $2), 0)
                      + $3::int4::int8 + $4::int4::int8 <= (select per_minute from client) as granted
           ),
           bumped as (
               insert into rate_limit_counters as counter (bucket, window_start, hits)
               select 'signals:client:' || $1::text, $2,
                      $3::int4 + case when (select granted from fits) then $4::int4 else 0 end
               from client
               on conflict (bucket, window_start) do update set hits = counter.hits + excluded.hits
               returning counter.hits
           )
           select (select per_minute from client) as per_minute,
                  (select granted from fits) as granted,
                  (select hits from bumped)::int8 as hits"#,
        client_id,
        minute,
        i32::try_from(carried).unwrap_or(i32::MAX),
        i32::try_from(signals).unwrap_or(i32::MAX),
    )
    .fetch_one(db)
    .await?;
    let (Some(per_minute), Some(granted), Some(hits)) = (row.per_minute, row.granted, row.hits) else {
        return Ok(None);
    };
    Ok(Some(Shared {
        per_minute,
        hits,
        granted,
    }))
}

fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_second(0)
        .and_then(|at| at.with_nanosecond(0))
        .unwrap_or(at)
}

fn seconds_left(now: DateTime<Utc>) -> u64 {
    u64::from(60 - now.second()).max(1)
}
