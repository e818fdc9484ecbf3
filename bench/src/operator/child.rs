//! The operator's side of the bench, run in a process of its own (the
//! bench starts itself again with `--child`), so that the process's memory
//! is the operator's alone: no fake API server objects, no baseline, no
//! bench bookkeeping. Configured as `operator` configures itself (a pool of
//! ten connections); stops when its standard input closes.

use std::{io::Read, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::sync::oneshot;

use super::catalogue::NAMESPACE;

/// What the child runs.
#[derive(Clone, Debug)]
pub enum Role {
    /// `operator --manifests DIR`.
    Manifests { dir: PathBuf },
    /// The cluster controllers against the API server at `api` (http URL).
    Cluster { api: String },
}

/// The line the child prints once connected, before the operator starts.
pub const READY: &str = "ready";

/// Runs `role` against `database_url` until standard input closes.
pub async fn run(role: Role, database_url: &str) -> anyhow::Result<()> {
    let db = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect(database_url)
        .await
        .context("connecting to PostgreSQL")?;
    let stop = stdin_closed();
    println!("{READY}");
    match role {
        Role::Manifests { dir } => operator::source::manifests::run(dir, db.clone(), stop)
            .await
            .context("manifests mode")?,
        Role::Cluster { api } => run_cluster(&api, db.clone(), stop).await?,
    }
    db.close().await;
    Ok(())
}

async fn run_cluster(api: &str, db: PgPool, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
    let mut config = kube::Config::new(api.parse().context("API server URL")?);
    config.default_namespace = NAMESPACE.to_owned();
    let client = kube::Client::try_from(config).context("API client")?;
    let ctx = Arc::new(operator::controller::Context::new(
        client,
        db,
        operator::metrics::Metrics::new(),
        "bench".to_owned(),
    ));
    let (trigger, shutdown) = operator::shutdown::channel();
    let controllers = operator::source::cluster::run_controllers(ctx, Some(NAMESPACE.to_owned()), shutdown);
    tokio::pin!(controllers);
    tokio::select! {
        () = &mut controllers => return Ok(()),
        () = stop => trigger.fire(),
    }
    controllers.await;
    Ok(())
}

/// Completes when standard input reaches its end (the bench closed it).
fn stdin_closed() -> impl Future<Output = ()> {
    let (closed, on_closed) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = closed.send(());
    });
    async move {
        let _ = on_closed.await;
    }
}
