//! The relay loop: take the lock, connect to the broker, then publish due
//! rows in id order, mark them after the broker's ack, count refusals and
//! dead-letter a row refused RELAY_MAX_ATTEMPTS times, and delete rows
//! past retention (DESIGN.md, "Event bus").
//!
//! At-least-once: a row is marked only after its ack, so a relay that dies
//! in between publishes it again; the stable event id lets JetStream
//! (`Nats-Msg-Id`) and consumers drop the copy. A broker outage never
//! counts towards dead-lettering: the relay backs off with jitter,
//! reconnects forever, and the backlog drains when the broker is back.

use std::{future::Future, time::Duration};

use chrono::Utc;
use sqlx::PgConnection;
use tokio::{sync::watch, time::Instant};

use crate::{
    Error, Result,
    backoff::{Backoff, delay_after},
    cloudevent::{self, Outbound},
    config::Config,
    leader,
    metrics::{Metrics, TypeLabels, type_label},
    outbox::{self, OutboxRow},
    transport::{AnyTransport, Delivery, Transport, TransportError, TransportSettings},
};

/// First pause after a broker failure; doubles up to RELAY_BACKOFF_MAX_MS.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// First pause before retrying a refused row; doubles per refusal.
const INITIAL_ROW_RETRY: Duration = Duration::from_secs(1);
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
        let rows = bounded(limit, outbox::fetch_due(&mut conn, settings.batch_size)).await?;
        if rows.is_empty() {
            pause(settings.poll_interval, shutdown).await;
            continue;
        }
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= settings.batch_size;
        if let Err(error) = publish_rows(&mut conn, active, &rows, settings, metrics).await? {
            metrics.error(error.class());
            metrics.broker_connected.set(0);
            tracing::warn!(%error, "broker failed; reconnecting");
            transport = None;
            pause(backoff.next_delay(), shutdown).await;
            continue;
        }
        backoff.reset();
        if !full {
            pause(settings.poll_interval, shutdown).await;
        }
    }
    Ok(())
}

/// Publishes one batch and records what the broker answered. The outer
/// `Result` is the database's, the inner one the broker's.
async fn publish_rows(
    conn: &mut PgConnection,
    transport: &mut AnyTransport,
    rows: &[OutboxRow],
    settings: &RelaySettings,
    metrics: &Metrics,
) -> Result<Result<(), TransportError>> {
    let limit = settings.transport.ack_timeout;
    let mut batch: Vec<(&OutboxRow, Outbound)> = Vec::with_capacity(rows.len());
    for row in rows {
        match cloudevent::encode(
            row,
            &settings.transport.subject_prefix,
            settings.transport.ce_mode,
        ) {
            Ok(message) => batch.push((row, message)),
            Err(malformed) => {
                // No broker could ever take it: straight to the dead letters.
                metrics.error("malformed");
                tracing::error!(outbox_id = row.id, error = %malformed, "dead-lettering a malformed row");
                bounded(limit, outbox::dead_letter(conn, row.id, &malformed.to_string())).await?;
                metrics.dead_lettered.inc();
            }
        }
    }
    let messages: Vec<Outbound> = batch.iter().map(|(_, message)| message.clone()).collect();
    if messages.is_empty() {
        return Ok(Ok(()));
    }
    let deliveries = match transport.publish_batch(&messages).await {
        Ok(deliveries) => deliveries,
        Err(error) => return Ok(Err(error)),
    };
    if deliveries
        .iter()
        .all(|delivery| matches!(delivery, Delivery::Refused(_)))
        && let Err(error) = transport.check().await
    {
        return Ok(Err(error));
    }
    let acked_at = Utc::now();
    let mut acked = Vec::with_capacity(deliveries.len());
    let mut refused = Vec::new();
    for ((row, message), delivery) in batch.iter().zip(deliveries) {
        let labels = TypeLabels {
            r#type: type_label(&message.event_type),
        };
        match delivery {
            Delivery::Stored | Delivery::Duplicate => {
                if delivery == Delivery::Duplicate {
                    metrics.duplicates.get_or_create(&labels).inc();
                }
                metrics.published.get_or_create(&labels).inc();
                let latency = (acked_at - row.created_at).to_std().unwrap_or_default();
                metrics.commit_to_ack_seconds.observe(latency.as_secs_f64());
                acked.push(row.id);
            }
            Delivery::Refused(reason) => refused.push((*row, reason)),
        }
    }
    bounded(limit, outbox::mark_published(conn, &acked)).await?;
    for (row, reason) in refused {
        metrics.error("refused");
        let retry_in = delay_after(
            INITIAL_ROW_RETRY,
            settings.backoff_max,
            row.attempts.unsigned_abs(),
        );
        let attempts = bounded(limit, outbox::record_refusal(conn, row.id, &reason, retry_in)).await?;
        if attempts >= settings.max_attempts {
            tracing::error!(outbox_id = row.id, attempts, %reason, "dead-lettering a row the broker keeps refusing");
            bounded(limit, outbox::dead_letter(conn, row.id, &reason)).await?;
            metrics.dead_lettered.inc();
        } else {
            tracing::warn!(outbox_id = row.id, attempts, %reason, ?retry_in, "the broker refused a row");
        }
    }
    Ok(Ok(()))
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
async fn bounded<T>(limit: Duration, query: impl Future<Output = sqlx::Result<T>>) -> Result<T> {
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
