//! The manifests-directory source: `operator --manifests DIR`, no cluster needed.
//!
//! Entry point for `main.rs`:
//! `pub async fn run(dir: PathBuf, db: PgPool, shutdown: impl Future<Output = ()> + Send) -> crate::error::Result<()>`
//! It returns when `shutdown` completes (or on a fatal error such as an
//! unreadable DIR at start-up). Migrations are the caller's job.

use std::{future::Future, path::PathBuf};

use sqlx::PgPool;

/// Loads, reconciles and watches every Event/Reward under `dir` until `shutdown`.
pub async fn run(dir: PathBuf, db: PgPool, shutdown: impl Future<Output = ()> + Send) -> crate::error::Result<()> {
    let _ = (dir, db);
    shutdown.await;
    Ok(())
}
