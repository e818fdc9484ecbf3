//! The manifests-directory source: `operator --manifests DIR`, no cluster needed.
//!
//! Entry point for `main.rs`:
//! `pub async fn run(dir: PathBuf, db: PgPool, shutdown: impl Future<Output = ()>) -> crate::error::Result<()>`
//! It returns when `shutdown` completes, or early with an error when DIR
//! cannot be read at start-up. Migrations are the caller's job.
//! [`run_with_metrics`] is the same, recording into the [`Metrics`] that the
//! process serves on `/metrics` (what `startup` calls).
//!
//! Every Event/Reward under DIR goes through the same [`crate::reconcile`]
//! as in a cluster. The directory is rescanned every [`RESCAN`] (a `stat`
//! per file; content hashes decide what changed), a timer fires at the
//! earliest next phase boundary across all Events, and Rewards are
//! re-reconciled every [`REWARD_RESYNC`] so `claimed`/`remaining` follow
//! claims. Status is logged and stored in `resource_status`. Reconciles,
//! failures, durations and phases are recorded as the cluster controllers do.

mod documents;
#[cfg(test)]
mod identity_tests;
#[cfg(test)]
mod metrics_tests;
mod state;
mod status_store;
mod store_reconcile;
mod tracking;

use std::{future::Future, path::PathBuf, time::Duration};

use chrono::Utc;
use sqlx::PgPool;
use tokio::time::{Instant, MissedTickBehavior};

pub use self::documents::{DocumentProblem, Manifest, ManifestDirectory, Origin, parse_file};
use self::state::ManifestState;
use crate::{
    error::{Error, Result},
    metrics::Metrics,
    reconcile::REWARD_RESYNC,
};

/// How often the directory is checked for new, edited and deleted files.
pub const RESCAN: Duration = Duration::from_millis(250);

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
    let mut state = ManifestState::restore(dir, db, metrics).await?;
    let mut rescan = tokio::time::interval(RESCAN);
    rescan.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut resync = tokio::time::interval_at(Instant::now() + REWARD_RESYNC, REWARD_RESYNC);
    resync.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        let boundary = state.next_boundary().map(|at| {
            let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now() + wait
        });
        tokio::select! {
            () = &mut shutdown => break,
            _ = rescan.tick() => state.rescan().await,
            _ = resync.tick() => state.resync().await,
            () = sleep_until_or_forever(boundary) => state.reconcile_due(Utc::now()).await,
        }
    }
    tracing::info!("manifests mode: stopped");
    Ok(())
}

async fn sleep_until_or_forever(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
