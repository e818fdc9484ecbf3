//! Drain rate: a backlog of outbox rows published by the relay, against
//! the same messages published raw to the same NATS server with a sliding
//! window of unacknowledged publishes and no database.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use async_nats::jetstream::{self, stream};
use futures::{StreamExt, stream::FuturesOrdered};
use relay::{
    cloudevent,
    config::{CeMode, TransportKind},
    outbox,
};
use sqlx::{Connection, PgConnection, PgPool};

use super::{RelayRun, relay_settings};

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
    Ok(())
}

/// Messages per second of the relay draining `count` rows.
pub async fn relay_rate(
    db: &PgPool,
    database_url: &str,
    nats_url: &str,
    count: i64,
    batch_size: i64,
) -> anyhow::Result<f64> {
    fill_outbox(db, count).await?;
    let run = RelayRun::start(relay_settings(
        database_url,
        TransportKind::Nats,
        nats_url,
        "benchdrain",
        "BENCH_DRAIN",
        batch_size,
    ));
    let started = Instant::now();
    loop {
        // One index probe, not a count: the poll must not slow the relay.
        let drained: bool =
            sqlx::query_scalar("select not exists (select 1 from outbox where published_at is null)")
                .fetch_one(db)
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
    run.stop().await;
    Ok(count as f64 / elapsed.as_secs_f64())
}

/// Messages per second of a raw pipelined publish of the same rows (read
/// back from the outbox and encoded as the relay encodes them) to a stream
/// of their own, at most `window` unacknowledged.
pub async fn raw_rate(database_url: &str, nats_url: &str, window: usize) -> anyhow::Result<f64> {
    let mut conn = PgConnection::connect(database_url).await?;
    let rows = outbox_rows(&mut conn).await?;
    let messages = rows
        .iter()
        .map(|row| cloudevent::encode(row, "benchraw", CeMode::Binary))
        .collect::<Result<Vec<_>, _>>()?;
    let client = async_nats::connect(nats_url).await?;
    let js = jetstream::new(client);
    let _ = js.delete_stream("BENCH_RAW").await;
    js.create_stream(stream::Config {
        name: "BENCH_RAW".to_owned(),
        subjects: vec!["benchraw.>".to_owned()],
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let started = Instant::now();
    let mut in_flight = FuturesOrdered::new();
    for message in &messages {
        let ack = js
            .publish_with_headers(
                message.subject.clone(),
                relay::transport::nats::headers(message),
                message.body.clone(),
            )
            .await?;
        in_flight.push_back(ack.into_future());
        if in_flight.len() >= window
            && let Some(acked) = in_flight.next().await
        {
            acked?;
        }
    }
    while let Some(acked) = in_flight.next().await {
        acked?;
    }
    let elapsed = started.elapsed();
    let stored = js.get_stream("BENCH_RAW").await?.info().await?.state.messages;
    ensure!(
        stored == messages.len() as u64,
        "raw publish stored {stored} of {}",
        messages.len()
    );
    let _ = js.delete_stream("BENCH_RAW").await;
    Ok(messages.len() as f64 / elapsed.as_secs_f64())
}

/// Every outbox row, published or not, in id order.
async fn outbox_rows(conn: &mut PgConnection) -> anyhow::Result<Vec<outbox::OutboxRow>> {
    let rows: Vec<(i64, String, serde_json::Value, chrono::DateTime<chrono::Utc>, i32)> =
        sqlx::query_as("select id, event_type, payload, created_at, attempts from outbox order by id")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, event_type, payload, created_at, attempts)| outbox::OutboxRow {
                id,
                event_type,
                payload,
                created_at,
                attempts,
            },
        )
        .collect())
}
