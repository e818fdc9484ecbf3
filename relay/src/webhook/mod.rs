//! Outbound webhooks per the Standard Webhooks specification (DESIGN.md,
//! "Event bus"): every outbox row the relay marks published fans out to
//! the `webhook_endpoints` subscribed to its type (migration 0031), and
//! this loop delivers each copy: signed, at most RELAY_WEBHOOK_CONCURRENCY
//! requests at once, retried with exponential backoff and jitter (never
//! sooner than a `Retry-After`), given up after RELAY_WEBHOOK_MAX_ATTEMPTS;
//! a 410 Gone disables the endpoint. Every replica runs it: deliveries are
//! taken under a lease with `SKIP LOCKED`, so replicas share the work.

pub mod attempt;
pub mod signature;
pub mod ssrf;
pub mod store;

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    time::Instant,
};

use self::{
    attempt::{Answer, Clients},
    signature::SigningKey,
    store::{DeliveryKey, DueDelivery, Failure},
};
use crate::{backoff::delay_after, config::Config, config::Secret, metrics::Metrics};

/// How long a suspended endpoint's deliveries wait before looking again.
const SUSPENDED_RECHECK: Duration = Duration::from_secs(30);
/// How often finished deliveries past retention are deleted, and how many
/// per statement.
const CLEANUP_EVERY: Duration = Duration::from_secs(10);
const CLEANUP_BATCH: i64 = 5_000;
/// Reason written to an endpoint that answered 410.
pub const GONE_REASON: &str = "the receiver answered 410 Gone";

/// What the delivery loop needs.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Longest request, connection included.
    pub timeout: Duration,
    /// Failed attempts before giving up.
    pub max_attempts: i32,
    /// First retry delay; doubles per failure.
    pub retry_initial: Duration,
    /// Longest retry delay, and longest `Retry-After` honoured.
    pub retry_max: Duration,
    /// Pause when nothing is due.
    pub poll_interval: Duration,
    /// How long finished deliveries are kept.
    pub retention: Duration,
}

impl WebhookSettings {
    /// The settings in `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            concurrency: usize::try_from(config.webhook_concurrency).unwrap_or(16),
            timeout: Duration::from_millis(config.webhook_timeout_ms),
            max_attempts: config.webhook_max_attempts,
            retry_initial: Duration::from_millis(config.webhook_retry_initial_ms),
            retry_max: Duration::from_millis(config.webhook_retry_max_ms),
            poll_interval: Duration::from_millis(config.poll_interval_ms.max(100)),
            retention: Duration::from_secs(config.retention_seconds),
        }
    }

    /// How long a taken delivery stays hidden from other takers: its
    /// request, plus the time to record the outcome.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }
}

/// Delivers until `shutdown` turns true, then waits for the requests in
/// flight (at most one timeout). Database failures are logged, counted
/// and retried.
pub async fn run(
    db: PgPool,
    clients: Clients,
    settings: WebhookSettings,
    metrics: Metrics,
    shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(settings.concurrency));
    let settings = Arc::new(settings);
    let mut next_cleanup = Instant::now();
    while !*shutdown.borrow() {
        if Instant::now() >= next_cleanup {
            if let Err(error) = store::delete_finished(&db, settings.retention, CLEANUP_BATCH).await {
                metrics.error("database");
                tracing::warn!(%error, "cannot delete finished webhook deliveries");
            }
            next_cleanup = Instant::now() + CLEANUP_EVERY;
        }
        let mut stop = shutdown.clone();
        let first = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let Ok(first) = first else { break };
        let mut permits = vec![first];
        while let Ok(permit) = Arc::clone(&slots).try_acquire_owned() {
            permits.push(permit);
        }
        let limit = i64::try_from(permits.len()).unwrap_or(1);
        match store::take_due(&db, limit, settings.lease()).await {
            Ok(due) if !due.is_empty() => {
                for (delivery, permit) in due.into_iter().zip(permits) {
                    let job = (
                        db.clone(),
                        clients.clone(),
                        Arc::clone(&settings),
                        metrics.clone(),
                    );
                    tokio::spawn(deliver(job, delivery, permit));
                }
            }
            Ok(_) => {
                drop(permits);
                pause(settings.poll_interval, &shutdown).await;
            }
            Err(error) => {
                drop(permits);
                metrics.error("database");
                tracing::warn!(%error, "cannot take due webhook deliveries");
                pause(settings.poll_interval * 10, &shutdown).await;
            }
        }
    }
    let all = u32::try_from(settings.concurrency).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(settings.lease(), slots.acquire_many(all)).await;
}

type Job = (PgPool, Clients, Arc<WebhookSettings>, Metrics);

/// Makes one attempt of `delivery` and records its outcome; the permit
/// frees its slot when done.
async fn deliver((db, clients, settings, metrics): Job, delivery: DueDelivery, _slot: OwnedSemaphorePermit) {
    let key = DeliveryKey {
        outbox_id: delivery.outbox_id,
        endpoint_id: delivery.endpoint_id,
    };
    let recorded = if let Some(reason) = &delivery.stopped_reason {
        metrics.webhook_outcome("dropped");
        store::give_up(&db, key, reason).await
    } else if delivery.suspended {
        store::postpone(&db, key, SUSPENDED_RECHECK).await
    } else {
        let started = Instant::now();
        let answer = match SigningKey::parse(&Secret::new(delivery.secret.clone())) {
            Ok(signing) => {
                attempt::send(
                    &clients,
                    &delivery.url,
                    delivery.allow_private,
                    &signing,
                    &delivery.message_id,
                    &delivery.payload,
                )
                .await
            }
            // Retried like a failed request: the operator may fix the Secret.
            Err(error) => Answer::Failed {
                status: None,
                error,
                retry_after: None,
            },
        };
        if !matches!(answer, Answer::Refused(_)) {
            metrics
                .webhook_request_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        record(&db, key, &delivery, answer, &settings, &metrics).await
    };
    if let Err(error) = recorded {
        // The lease runs out and the delivery is tried again.
        metrics.error("database");
        tracing::warn!(%error, outbox_id = key.outbox_id, endpoint_id = %key.endpoint_id, "cannot record a webhook attempt");
    }
}

/// Writes `answer` to the delivery and its endpoint, and counts it.
async fn record(
    db: &PgPool,
    key: DeliveryKey,
    delivery: &DueDelivery,
    answer: Answer,
    settings: &WebhookSettings,
    metrics: &Metrics,
) -> sqlx::Result<()> {
    match answer {
        Answer::Delivered(status) => {
            metrics.webhook_outcome("delivered");
            store::record_delivered(db, key, i32::from(status)).await
        }
        Answer::Gone => {
            metrics.webhook_outcome("gone");
            tracing::warn!(url = %delivery.url, "a webhook receiver answered 410 Gone: endpoint disabled");
            store::record_failure(db, key, &give_up_now(GONE_REASON, Some(410), Some(GONE_REASON)))
                .await
                .map(drop)
        }
        Answer::Refused(why) => {
            metrics.webhook_outcome("refused");
            tracing::warn!(url = %delivery.url, %why, "webhook target refused by the SSRF guard");
            let error = format!("refused: {why}");
            store::record_failure(db, key, &give_up_now(&error, None, None))
                .await
                .map(drop)
        }
        Answer::Failed {
            status,
            error,
            retry_after,
        } => {
            let failures = delivery.attempts.unsigned_abs();
            let backoff = delay_after(settings.retry_initial, settings.retry_max, failures);
            let retry_in = retry_after.map_or(backoff, |asked| backoff.max(asked.min(settings.retry_max)));
            let failure = Failure {
                status: status.map(i32::from),
                error: &error,
                retry_in,
                max_attempts: settings.max_attempts,
                disable: None,
            };
            let gave_up = store::record_failure(db, key, &failure).await?;
            metrics.webhook_outcome(if gave_up { "gave_up" } else { "failed" });
            tracing::info!(url = %delivery.url, ?status, %error, ?retry_in, gave_up, "webhook attempt failed");
            Ok(())
        }
    }
}

/// A failure that ends the delivery at once.
fn give_up_now<'a>(error: &'a str, status: Option<i32>, disable: Option<&'a str>) -> Failure<'a> {
    Failure {
        status,
        error,
        retry_in: Duration::ZERO,
        max_attempts: 0,
        disable,
    }
}

/// Sleeps for `duration`, or less when shutdown begins.
async fn pause(duration: Duration, shutdown: &watch::Receiver<bool>) {
    let mut shutdown = shutdown.clone();
    tokio::select! {
        () = tokio::time::sleep(duration) => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}
