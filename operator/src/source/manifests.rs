//! The manifests-directory source: `operator --manifests DIR`, no cluster needed.
//!
//! Entry point for `main.rs`:
//! `pub async fn run(dir: PathBuf, db: PgPool, shutdown: impl Future<Output = ()>) -> crate::error::Result<()>`
//! It returns when `shutdown` completes, or early with an error when DIR
//! cannot be read at start-up. Migrations are the caller's job.
//! [`run_with_metrics`] is the same, recording into the [`Metrics`] that the
//! process serves on `/metrics`; [`run_watching`] also takes the
//! [`DirectoryWatcher`] (what `startup` calls).
//!
//! Every Event/Reward under DIR goes through the same [`crate::reconcile`]
//! as in a cluster, in batches (see `state`); WebhookEndpoints too, one at a
//! time, with the signing secret of a `v1` Secret document of DIR. The
//! directory is rescanned when inotify reports a change, debounced, or
//! every [`watcher::POLL`] where no native watcher is available (see
//! `watcher`; a `stat` per file, content hashes decide what changed).
//! Phase boundaries are served by the [`PhaseTimer`](crate::phase_timer::PhaseTimer) task on its
//! own connection, so they never wait behind this loop; the events it
//! flipped come back here to have their statuses refreshed. Claims reach
//! `claimed`/`remaining`/`claimsTotal` through the change-driven passes of
//! `counters` every [`COUNTERS_PASS`]. Status is stored in
//! `resource_status`. Reconciles, failures, durations and phases are
//! recorded as the cluster controllers do.

#[cfg(test)]
mod challenges_tests;
mod counters;
mod documents;
#[cfg(test)]
mod identity_tests;
#[cfg(test)]
mod kstatus_tests;
#[cfg(test)]
mod metrics_tests;
mod object_key;
mod state;
mod status_store;
mod store_reconcile;
mod tracking;
pub mod watcher;

use std::{future::Future, path::PathBuf};

use sqlx::PgPool;
use tokio::{
    sync::{mpsc, oneshot},
    time::{Instant, MissedTickBehavior},
};

pub use self::{
    counters::{COUNTERS_PASS, STATUS_WRITES_PER_PASS},
    documents::{DocumentProblem, Manifest, ManifestDirectory, Origin, parse_file, split_documents},
    watcher::DirectoryWatcher,
};
use self::{object_key::ObjectKey, state::ManifestState};
use crate::{
    error::{Error, Result},
    metrics::Metrics,
    projection::{FlippedEvent, Kind},
    reconcile::SAFETY_RESYNC,
};

/// Loads, reconciles and watches every Event/Reward under `dir` until `shutdown`.
pub async fn run(dir: PathBuf, db: PgPool, shutdown: impl Future<Output = ()>) -> Result<()> {
    // Callers without a metrics endpoint (tests, the bench) get metrics nobody reads.
    run_with_metrics(dir, db, Metrics::new(), shutdown).await
}

/// [`run`], recording reconciles, failures, durations and phases in `metrics`.
pub async fn run_with_metrics(
    dir: PathBuf,
    db: PgPool,
    metrics: Metrics,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    // Watching starts before the first scan so that no edit falls between the two.
    let watcher = DirectoryWatcher::new(&dir);
    run_watching(dir, db, metrics, watcher, shutdown).await
}

/// [`run_with_metrics`], rescanning when `watcher` says so.
pub async fn run_watching(
    dir: PathBuf,
    db: PgPool,
    metrics: Metrics,
    mut watcher: DirectoryWatcher,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let metadata = tokio::fs::metadata(&dir)
        .await
        .map_err(|source| Error::ManifestIo {
            path: dir.clone(),
            source,
        })?;
    if !metadata.is_dir() {
        return Err(Error::ManifestIo {
            path: dir,
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    tracing::info!(dir = %dir.display(), "manifests mode: watching directory");
    let mut state = ManifestState::restore(dir, db.clone(), metrics).await?;
    state.rescan().await;
    let (flips, mut flipped) = mpsc::unbounded_channel();
    let (stop_timer, timer_stopped) = oneshot::channel::<()>();
    let timer = tokio::spawn(state.timer().run(db, Some(flips), async move {
        let _ = timer_stopped.await;
    }));
    let mut counters = tokio::time::interval_at(Instant::now() + COUNTERS_PASS, COUNTERS_PASS);
    counters.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Every object is reconciled in full once per SAFETY_RESYNC, a slice per pass.
    let share = COUNTERS_PASS.as_secs_f64() / SAFETY_RESYNC.as_secs_f64();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(batch) = flipped.recv() => state.refresh_flipped(drain(batch, &mut flipped)).await,
            () = watcher.changed() => state.rescan().await,
            _ = counters.tick() => state.counters_pass(share).await,
        }
    }
    let _ = stop_timer.send(());
    let _ = timer.await;
    tracing::info!("manifests mode: stopped");
    Ok(())
}

/// `first` and every other batch of flipped events already waiting, as
/// object keys: one refresh for all the events of a boundary.
fn drain(
    first: Vec<FlippedEvent>,
    flipped: &mut mpsc::UnboundedReceiver<Vec<FlippedEvent>>,
) -> Vec<ObjectKey> {
    let mut keys: Vec<_> = first.into_iter().map(event_key).collect();
    while let Ok(more) = flipped.try_recv() {
        keys.extend(more.into_iter().map(event_key));
    }
    keys
}

fn event_key(event: FlippedEvent) -> ObjectKey {
    ObjectKey::new(Kind::Event, event.namespace, event.name)
}
