//! Phase boundaries on their own path (issue 15): a due-queue of event rows
//! by the instant their phase changes, served by one task that flips every
//! row due at an instant with one batched `UPDATE ... WHERE id = ANY(...)`.
//!
//! Reconciles, resyncs and status writes never stand in front of a
//! boundary: the task has its own database connection (pool of one), so
//! 10,000 events sharing a `startsAt` flip within a second of it whatever
//! else the operator is doing. Sources schedule each event row after its
//! reconcile ([`PhaseTimer::schedule`]) and, in manifests mode, receive the
//! flipped events back to refresh their statuses.
//!
//! The reconcile also writes the phase it computes; should a reconcile
//! computed just before a boundary commit just after the flip, it schedules
//! the row again at that boundary, which is then past, so the timer flips
//! it once more at once: both writers derive the phase from time and agree.

mod due_queue;

use std::{
    future::Future,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

pub use self::due_queue::DueQueue;
use crate::{
    metrics::Metrics,
    projection::{self, FlippedEvent},
};

/// Rows per UPDATE: large enough that 10,000 rows take a handful of
/// statements, small enough to keep each statement's lock set modest.
const FLIP_BATCH: usize = 5_000;
/// Delay before retrying rows whose flip failed (database away).
const FLIP_RETRY: Duration = Duration::from_millis(500);

/// Handle to the due-queue; clones share it.
#[derive(Clone, Debug, Default)]
pub struct PhaseTimer {
    queue: Arc<Mutex<DueQueue>>,
    wake: Arc<Notify>,
    /// Where each transition's lag is recorded, when anyone reads it.
    metrics: Option<Metrics>,
}

impl PhaseTimer {
    /// A timer recording how late each transition lands into `metrics`.
    pub fn recording(metrics: Metrics) -> Self {
        Self {
            metrics: Some(metrics),
            ..Self::default()
        }
    }

    /// Flips the row `id` at `at` (its next boundary); `None` forgets it.
    pub fn schedule(&self, id: Uuid, at: Option<DateTime<Utc>>) {
        if self.queue().schedule(id, at) {
            self.wake.notify_one();
        }
    }

    /// Rows waiting for a boundary.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.queue().len()
    }

    fn queue(&self) -> MutexGuard<'_, DueQueue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves boundaries until `shutdown`, on a connection of its own
    /// opened with `db`'s options. Flipped events go to `flipped` when set.
    pub async fn run(
        self,
        db: PgPool,
        flipped: Option<mpsc::UnboundedSender<Vec<FlippedEvent>>>,
        shutdown: impl Future<Output = ()>,
    ) {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_lazy_with(db.connect_options().as_ref().clone());
        tokio::pin!(shutdown);
        loop {
            let next = self.queue().next_at();
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => continue,
                () = sleep_until_or_forever(next) => {}
            }
            let now = Utc::now();
            let due = self.queue().take_due(now);
            for batch in due.chunks(FLIP_BATCH) {
                self.flip(&own, batch, now, flipped.as_ref()).await;
            }
        }
        own.close().await;
    }

    async fn flip(
        &self,
        db: &PgPool,
        ids: &[Uuid],
        now: DateTime<Utc>,
        flipped: Option<&mpsc::UnboundedSender<Vec<FlippedEvent>>>,
    ) {
        match projection::flip_phases(db, ids, now).await {
            Ok(done) => {
                tracing::debug!(due = ids.len(), flipped = done.len(), "phase boundary served");
                if let Some(metrics) = &self.metrics {
                    for lag in &done.lags {
                        metrics.transition_landed(lag.entered, lag.seconds);
                    }
                }
                if let Some(flipped) = flipped
                    && !done.is_empty()
                {
                    let _ = flipped.send(done.events);
                }
            }
            Err(error) => {
                tracing::warn!(%error, rows = ids.len(), "phase flip failed; retrying");
                let retry = now + FLIP_RETRY;
                let mut queue = self.queue();
                for id in ids {
                    queue.schedule(*id, Some(retry));
                }
            }
        }
    }
}

async fn sleep_until_or_forever(at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => {
            let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait).await;
        }
        None => std::future::pending().await,
    }
}
