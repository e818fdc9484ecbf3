//! The relay loop: take the lock, connect to the broker, then publish due
//! rows in id order, mark them after the broker's ack (or delete them then,
//! with no retention), count refusals and dead-letter a row refused
//! RELAY_MAX_ATTEMPTS times, and delete rows past retention (DESIGN.md,
//! "Event bus").
//!
//! At-least-once: a row is marked only after its ack, so a relay that dies
//! in between publishes it again; the stable event id lets JetStream
//! (`Nats-Msg-Id`) and consumers drop the copy. A broker outage never
//! counts towards dead-lettering: the relay backs off with jitter,
//! reconnects forever, and the backlog drains when the broker is back.

use std::{future::Future, time::Duration};

use sqlx::PgConnection;
use tokio::{sync::watch, time::Instant};

use crate::{
    Error, Result,
    backoff::Backoff,
    batch::{self, Sent},
    config::Config,
    leader,
    metrics::Metrics,
    outbox,
    transport::{AnyTransport, Transport, TransportError, TransportSettings},
};

/// First pause after a broker failure; doubles up to RELAY_BACKOFF_MAX_MS.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// First pause before retrying a refused row; doubles per refusal.
pub(crate) const INITIAL_ROW_RETRY: Duration = Duration::from_secs(1);
/// How often published rows past retention are deleted.
const CLEANUP_EVERY: Duration = Duration::from_secs(10);
/// Rows deleted per statement, and statements per cleanup.
const CLEANUP_BATCH: i64 = 5_000;
const CLEANUP_ROUNDS: usize = 10;

/// What the loop needs.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Where the outbox and the lock are.
    pub database_url: String,
    /// Which broker and how.
    pub transport: TransportSettings,
    /// Rows per batch.
    pub batch_size: i64,
    /// Pause when the outbox has no due row.
    pub poll_interval: Duration,
    /// Refusals before dead-lettering.
    pub max_attempts: i32,
    /// How long published rows are kept.
    pub retention: Duration,
    /// Longest pause between broker reconnections.
    pub backoff_max: Duration,
    /// How often a standby tries the lock.
    pub standby_poll: Duration,
}

impl RelaySettings {
    /// The settings in `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            database_url: config.database_url().to_owned(),
            transport: TransportSettings::from_config(config),
            batch_size: i64::from(config.batch_size),
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            max_attempts: config.max_attempts,
            retention: Duration::from_secs(config.retention_seconds),
            backoff_max: Duration::from_millis(config.backoff_max_ms),
            standby_poll: Duration::from_millis(config.standby_poll_ms),
        }
    }
}

/// Runs until `shutdown` turns true: stands by, leads, and stands by again
/// after losing the database. Never returns an error: every failure is
/// logged, counted and retried.
pub async fn run(settings: RelaySettings, metrics: Metrics, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(INITIAL_BACKOFF, settings.backoff_max);
    while !*shutdown.borrow() {
        let conn = tokio::select! {
            conn = leader::acquire(&settings.database_url, settings.standby_poll) => conn,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        metrics.leader.set(1);
        let led = lead(&settings, conn, &metrics, &shutdown).await;
        metrics.leader.set(0);
        metrics.broker_connected.set(0);
        if let Err(error) = led {
            metrics.error("database");
            tracing::warn!(%error, "stopped publishing: the database failed");
            pause(backoff.next_delay(), &shutdown).await;
        }
    }
}

/// Why one round of the leader stopped.
enum Stop {
    /// The database failed: this leadership term ends.
    Database(Error),
    /// The broker failed: reconnect, send again what was not recorded.
    Broker(TransportError),
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Self::Database(error)
    }
}

impl From<TransportError> for Stop {
    fn from(error: TransportError) -> Self {
        Self::Broker(error)
    }
}

/// Publishes while the lock connection works, until shutdown.
async fn lead(
    settings: &RelaySettings,
    mut conn: PgConnection,
    metrics: &Metrics,
    shutdown: &watch::Receiver<bool>,
) -> Result<()> {
    let limit = settings.transport.ack_timeout;
    let mut transport: Option<AnyTransport> = None;
    let mut backoff = Backoff::new(INITIAL_BACKOFF, settings.backoff_max);
    let mut next_cleanup = Instant::now();
    // Sent, its acks on their way: with the broker while the next batch
    // is read, encoded and sent behind it.
    let mut in_flight: Option<Sent> = None;
    while !*shutdown.borrow() {
        if Instant::now() >= next_cleanup {
            delete_expired(&mut conn, settings, limit).await?;
            next_cleanup = Instant::now() + CLEANUP_EVERY;
        }
        let Some(active) = transport.as_mut() else {
            match AnyTransport::connect(&settings.transport).await {
                Ok(connected) => {
                    tracing::info!(transport = ?settings.transport.kind, "connected to the broker");
                    metrics.broker_connected.set(1);
                    transport = Some(connected);
                }
                Err(error) => {
                    metrics.error(error.class());
                    tracing::warn!(%error, "broker unavailable; retrying");
                    pause(backoff.next_delay(), shutdown).await;
                    // Proves the lock is still held while the broker is away.
                    bounded(limit, sqlx::query!("select 1 as one").fetch_one(&mut conn)).await?;
                }
            }
            continue;
        };
        match round(&mut conn, active, &mut in_flight, settings, metrics).await {
            Ok(full) => {
                backoff.reset();
                if !full {
                    pause(settings.poll_interval, shutdown).await;
                }
            }
            Err(Stop::Database(error)) => return Err(error),
            Err(Stop::Broker(error)) => {
                // What was sent and not recorded is read and sent again.
                in_flight = None;
                metrics.error(error.class());
                metrics.broker_connected.set(0);
                tracing::warn!(%error, "broker failed; reconnecting");
                transport = None;
                pause(backoff.next_delay(), shutdown).await;
            }
        }
    }
    // Shutting down: the batch in flight is marked once answered, not
    // republished by the next leader.
    if let (Some(sent), Some(active)) = (in_flight, transport.as_mut())
        && let Ok(answered) = batch::answers(sent).await
        && (!answered.all_refused() || active.check().await.is_ok())
    {
        batch::record(&mut conn, answered, settings, metrics).await?;
    }
    Ok(())
}

/// One round: reads the next due rows (those in flight excepted), then
/// encodes and sends them behind the batch in flight while that batch's
/// acks are awaited and recorded on the database connection. Returns
/// whether the read was full; when it was not, nothing more is due and the
/// new batch is awaited and recorded too, so that the pause before the
/// next poll never delays a mark.
///
/// Order: one connection carries every batch after the one before it, and
/// the rows of a batch in id order, so the broker gets each Event's
/// messages in outbox order.
async fn round(
    conn: &mut PgConnection,
    transport: &mut AnyTransport,
    in_flight: &mut Option<Sent>,
    settings: &RelaySettings,
    metrics: &Metrics,
) -> Result<bool, Stop> {
    let limit = settings.transport.ack_timeout;
    let sending = in_flight.as_ref().map(Sent::ids).unwrap_or_default();
    let rows = bounded(
        limit,
        outbox::fetch_due(conn, settings.batch_size, &sending, settings.transport.ce_mode),
    )
    .await?;
    let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= settings.batch_size;
    let older = in_flight.take();
    // Biased: the older batch's mark goes to PostgreSQL first, then the
    // encoding and sending run while PostgreSQL executes it.
    let (settled, sent) = tokio::join!(
        biased;
        settle(conn, older, settings, metrics),
        async {
            let (encoded, malformed) = batch::encode(rows, settings);
            (batch::send(transport, encoded).await, malformed)
        },
    );
    let unchecked = settled?;
    let (newer, malformed) = sent;
    let newer = newer?;
    if let Some(answered) = unchecked {
        transport.check().await?;
        batch::record(conn, answered, settings, metrics).await?;
    }
    batch::dead_letter_malformed(conn, malformed, settings, metrics).await?;
    *in_flight = newer;
    if !full && let Some(sent) = in_flight.take() {
        let answered = batch::answers(sent).await?;
        if answered.all_refused() {
            transport.check().await?;
        }
        batch::record(conn, answered, settings, metrics).await?;
    }
    Ok(full)
}

/// Awaits the answers to `older` and records them, unless the broker
/// refused every message: that batch is returned, to be recorded once
/// `Transport::check` has found the broker itself working.
async fn settle(
    conn: &mut PgConnection,
    older: Option<Sent>,
    settings: &RelaySettings,
    metrics: &Metrics,
) -> Result<Option<batch::Answered>, Stop> {
    let Some(older) = older else {
        return Ok(None);
    };
    let answered = batch::answers(older).await?;
    if answered.all_refused() {
        return Ok(Some(answered));
    }
    batch::record(conn, answered, settings, metrics).await?;
    Ok(None)
}

/// Deletes published rows past retention, a bounded number per call.
async fn delete_expired(conn: &mut PgConnection, settings: &RelaySettings, limit: Duration) -> Result<()> {
    for _ in 0..CLEANUP_ROUNDS {
        let deleted = bounded(
            limit,
            outbox::delete_published(conn, settings.retention, CLEANUP_BATCH),
        )
        .await?;
        if deleted < u64::try_from(CLEANUP_BATCH).unwrap_or(u64::MAX) {
            break;
        }
    }
    Ok(())
}

/// Bounds a query: a half-open connection must not hang the leader.
pub(crate) async fn bounded<T>(limit: Duration, query: impl Future<Output = sqlx::Result<T>>) -> Result<T> {
    tokio::time::timeout(limit, query)
        .await
        .map_err(|_| Error::DatabaseTimeout(limit))?
        .map_err(Error::from)
}

/// Sleeps for `duration`, or less when shutdown begins.
async fn pause(duration: Duration, shutdown: &watch::Receiver<bool>) {
    let mut shutdown = shutdown.clone();
    tokio::select! {
        () = tokio::time::sleep(duration) => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}
