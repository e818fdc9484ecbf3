//! Drain rate: a backlog of outbox rows published by the relay, against
//! the same messages published raw to the same broker with a sliding
//! window of unacknowledged publishes and no database. Rounds alternate
//! which of the two goes first, so drift on a shared machine hits both.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use relay::{
    cloudevent::{self, Outbound},
    config::CeMode,
    outbox,
};
use sqlx::PgPool;

use super::{
    RelayRun,
    broker::Broker,
    cpu::{CpuSample, CpuUse},
    raw, relay_settings,
};

/// Subject prefixes and destinations of the two runs: prefixes of the same
/// length, so both carry subjects of the same size.
const RELAY_PREFIX: &str = "drainrly";
const RELAY_DESTINATION: &str = "BENCH_DRAIN";
const RAW_PREFIX: &str = "drainraw";
const RAW_DESTINATION: &str = "BENCH_RAW";

/// One run's rate, in messages per second, and the CPU time it took.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Messages per second.
    pub per_sec: f64,
    /// CPU time of the bench process, PostgreSQL and the broker.
    pub cpu: CpuUse,
}

/// One round's runs.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    /// The relay draining the backlog.
    pub relay: Rate,
    /// The raw pipelined publish of the same messages.
    pub raw: Rate,
}

impl Round {
    /// relay / raw.
    pub fn ratio(&self) -> f64 {
        self.relay.per_sec / self.raw.per_sec
    }
}

/// What a drain measurement needs.
#[derive(Debug, Clone)]
pub struct DrainRun<'a> {
    /// The outbox's database.
    pub db: &'a PgPool,
    /// Its URL, for the relay's lock connection.
    pub database_url: &'a str,
    /// Where both publish.
    pub broker: Broker,
    /// Backlog rows.
    pub count: i64,
    /// RELAY_BATCH_SIZE.
    pub batch_size: i64,
    /// Unacknowledged publishes of the raw run.
    pub window: usize,
    /// RELAY_RETENTION_SECONDS of the relay runs: 0 deletes each row at
    /// its ack, more marks it and keeps it.
    pub retention: Duration,
}

impl DrainRun<'_> {
    /// The database's name: the last segment of its URL.
    fn database_name(&self) -> String {
        let path = self.database_url.split('?').next().unwrap_or(self.database_url);
        path.rsplit('/').next().unwrap_or(path).to_owned()
    }

    /// Round `round` (from 0): a fresh backlog, then the relay and the raw
    /// publish, the relay first in even rounds.
    pub async fn round(&self, round: usize) -> anyhow::Result<Round> {
        sqlx::query("truncate outbox").execute(self.db).await?;
        fill_outbox(self.db, self.count).await?;
        // Read before either run: the relay deletes the rows it publishes
        // (RELAY_RETENTION_SECONDS=0).
        let messages = raw_messages(self.db).await?;
        if round.is_multiple_of(2) {
            let relay = self.relay_rate().await?;
            Ok(Round {
                relay,
                raw: self.raw_rate(&messages).await?,
            })
        } else {
            let raw = self.raw_rate(&messages).await?;
            Ok(Round {
                raw,
                relay: self.relay_rate().await?,
            })
        }
    }

    /// Messages per second of the relay draining the backlog, from its
    /// start (lock, broker connection) to the last row marked.
    async fn relay_rate(&self) -> anyhow::Result<Rate> {
        self.broker.prepare(RELAY_DESTINATION, RELAY_PREFIX).await?;
        let mut settings = relay_settings(
            self.database_url,
            self.broker.kind,
            &self.broker.url,
            RELAY_PREFIX,
            RELAY_DESTINATION,
            self.batch_size,
        );
        settings.retention = self.retention;
        let cpu = CpuSample::now(&self.database_name());
        let started = Instant::now();
        let run = RelayRun::start(settings);
        loop {
            // One index probe, not a count: the poll must not slow the relay.
            let drained: bool =
                sqlx::query_scalar("select not exists (select 1 from outbox where published_at is null)")
                    .fetch_one(self.db)
                    .await?;
            if drained {
                break;
            }
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the relay did not drain in 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let elapsed = started.elapsed();
        // Before the stop: the relay's database session ends with it.
        let cpu = CpuSample::now(&self.database_name()).since(&cpu);
        run.stop().await;
        let stored = self.broker.stored(RELAY_DESTINATION).await?;
        ensure!(
            stored == self.count as u64,
            "the relay's destination holds {stored} of {} messages",
            self.count
        );
        let dead: i64 = sqlx::query_scalar("select count(*) from outbox_dead_letters")
            .fetch_one(self.db)
            .await?;
        ensure!(dead == 0, "{dead} rows went to the dead letters");
        self.broker.remove(RELAY_DESTINATION).await?;
        Ok(Rate {
            per_sec: self.count as f64 / elapsed.as_secs_f64(),
            cpu,
        })
    }

    /// Messages per second of a raw pipelined publish of `messages`.
    async fn raw_rate(&self, messages: &[Outbound]) -> anyhow::Result<Rate> {
        self.broker.prepare(RAW_DESTINATION, RAW_PREFIX).await?;
        let cpu = CpuSample::now(&self.database_name());
        let elapsed = raw::publish(&self.broker, RAW_DESTINATION, messages, self.window).await?;
        let cpu = CpuSample::now(&self.database_name()).since(&cpu);
        let stored = self.broker.stored(RAW_DESTINATION).await?;
        ensure!(
            stored == messages.len() as u64,
            "raw publish stored {stored} of {}",
            messages.len()
        );
        self.broker.remove(RAW_DESTINATION).await?;
        Ok(Rate {
            per_sec: messages.len() as f64 / elapsed.as_secs_f64(),
            cpu,
        })
    }
}

/// Writes `count` reward.claimed rows, as the claim statement writes them,
/// in one statement.
pub async fn fill_outbox(db: &PgPool, count: i64) -> anyhow::Result<()> {
    sqlx::query(
        "insert into outbox (event_type, payload)
         select 'dev.liveops.reward.claimed', jsonb_build_object(
             'specversion', '1.0', 'id', gen_random_uuid(), 'source', '/liveops/events/bench/drain',
             'type', 'dev.liveops.reward.claimed', 'time', now(), 'subject', 'gold',
             'datacontenttype', 'application/json',
             'data', jsonb_build_object('claimId', gen_random_uuid(), 'userId', gen_random_uuid(),
                 'rewardId', gen_random_uuid(), 'rewardName', 'gold', 'eventId', (n % 64)::text,
                 'eventNamespace', 'bench', 'eventName', 'drain', 'eventGeneration', 1,
                 'periodKey', 'once', 'slot', 1, 'payload', jsonb_build_object('item', 'gold')))
         from generate_series(1, $1) as n",
    )
    .bind(count)
    .execute(db)
    .await
    .context("fill the outbox")?;
    // Fresh statistics, as autovacuum would give a table this size.
    sqlx::query("analyze outbox").execute(db).await?;
    Ok(())
}

/// Every outbox row in id order, read and encoded as the relay reads and
/// encodes them: the raw publish's messages.
async fn raw_messages(db: &PgPool) -> anyhow::Result<Vec<Outbound>> {
    let ids: Vec<i64> = sqlx::query_scalar("select id from outbox order by id")
        .fetch_all(db)
        .await?;
    let mut conn = db.acquire().await?;
    let rows = outbox::fetch_ids(&mut conn, &ids, CeMode::Binary).await?;
    Ok(rows
        .iter()
        .map(|row| cloudevent::encode(row, RAW_PREFIX, CeMode::Binary))
        .collect::<Result<Vec<_>, _>>()?)
}
