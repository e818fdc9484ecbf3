//! Claim-commit to broker-ack latency under claim load: `claimers` tasks
//! run the claim statement the API server sends, back to back, while the
//! relay publishes; a core NATS subscriber on the stream's subjects times
//! each event's arrival, which follows JetStream's store and ack, against
//! the instant its claim statement returned (its commit).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use async_nats::jetstream;
use futures::StreamExt;
use relay::config::TransportKind;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{RelayRun, relay_settings};
use crate::{claim_statement::claim_sql, latency::Latencies};

/// What the load run measured.
#[derive(Debug)]
pub struct LoadFigures {
    /// Granted claims per second.
    pub claims_per_sec: f64,
    /// Commit-to-arrival latencies of every claim seen on the broker.
    pub latencies: Latencies,
    /// Claims granted that never arrived within the grace period.
    pub missing: usize,
}

/// An active, condition-free event with one unlimited reward and
/// `users` users; returns the reward.
pub async fn prepare(db: &PgPool, users: usize) -> anyhow::Result<Uuid> {
    let (event_id, reward_id) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation)
         values ($1, 'bench', 'relay-bench', 'Relay benchmark', now() - interval '1 minute',
                 now() + interval '1 day', 'Active', 1)",
    )
    .bind(event_id)
    .execute(db)
    .await?;
    sqlx::query(
        "insert into users (id, email, password_hash, birth_date, invite_code)
         select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
                'relay-bench-' || n || '@example.com', 'no-login', '1990-01-01', 'RELAYB' || n
         from generate_series(0, $1 - 1) as n",
    )
    .bind(i64::try_from(users)?)
    .execute(db)
    .await?;
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, per_user_limit, generation)
         values ($1, $2, 'bench', 'relay-bench-reward', 'Relay benchmark', null, 2147483647, 1)",
    )
    .bind(reward_id)
    .bind(event_id)
    .execute(db)
    .await?;
    Ok(reward_id)
}

/// Runs `claimers` claim loops for `duration` with the relay publishing.
pub async fn run(
    db: &PgPool,
    database_url: &str,
    nats_url: &str,
    reward_id: Uuid,
    claimers: usize,
    duration: Duration,
    batch_size: i64,
) -> anyhow::Result<LoadFigures> {
    // A stream left by an earlier run would make the relay's stream
    // setup and stores slower than a first run's.
    let _ = jetstream::new(async_nats::connect(nats_url).await?)
        .delete_stream("BENCH_LOAD")
        .await;
    let client = async_nats::connect(nats_url).await?;
    let mut subscription = client.subscribe("benchload.reward.claimed.>").await?;
    let seen: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let arrivals = tokio::spawn({
        let seen = Arc::clone(&seen);
        async move {
            while let Some(message) = subscription.next().await {
                let arrived = Instant::now();
                let id = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("ce-id"))
                    .map(|v| v.to_string());
                if let Some(id) = id.and_then(|id| id.parse::<Uuid>().ok()) {
                    seen.lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(id, arrived);
                }
            }
        }
    });
    let relay = RelayRun::start(relay_settings(
        database_url,
        TransportKind::Nats,
        nats_url,
        "benchload",
        "BENCH_LOAD",
        batch_size,
    ));
    let started = Instant::now();
    let mut loops = Vec::new();
    for claimer in 0..claimers {
        let db = db.clone();
        loops.push(tokio::spawn(claim_loop(
            db,
            reward_id,
            claimer,
            started + duration,
        )));
    }
    let mut committed = HashMap::new();
    for handle in loops {
        committed.extend(handle.await.context("claim loop")??);
    }
    let claims_per_sec = committed.len() as f64 / started.elapsed().as_secs_f64();
    // Grace period for the last claims to arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        // One index probe, not a count: the poll must not slow the relay.
        let drained: bool =
            sqlx::query_scalar("select not exists (select 1 from outbox where published_at is null)")
                .fetch_one(db)
                .await?;
        if drained {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    relay.stop().await;
    arrivals.abort();
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    let mut latencies = Latencies::default();
    let mut missing = 0;
    for (id, at) in &committed {
        match seen.get(id) {
            Some(arrived) => latencies.record(arrived.saturating_duration_since(*at)),
            None => missing += 1,
        }
    }
    Ok(LoadFigures {
        claims_per_sec,
        latencies,
        missing,
    })
}

/// Claims as bench user `claimer` until `until`; returns each granted
/// claim's id with the instant its statement returned.
async fn claim_loop(
    db: PgPool,
    reward_id: Uuid,
    claimer: usize,
    until: Instant,
) -> anyhow::Result<HashMap<Uuid, Instant>> {
    let user_id: Uuid = format!("00000000-0000-4000-8000-{claimer:012}").parse()?;
    let mut granted = HashMap::new();
    while Instant::now() < until {
        let claim_id = Uuid::new_v4();
        let row = sqlx::query(claim_sql())
            .bind(reward_id)
            .bind(user_id)
            .bind(None::<i64>)
            .bind(None::<String>)
            .bind(claim_id)
            .bind(86_400_f64)
            .fetch_optional(&db)
            .await?;
        let returned = Instant::now();
        if row.is_some_and(|row| row.try_get::<Option<Uuid>, _>("claim_id?").ok().flatten() == Some(claim_id))
        {
            granted.insert(claim_id, returned);
        }
    }
    Ok(granted)
}
