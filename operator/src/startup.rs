//! Start-up and shutdown of the operator process: database, migrations,
//! the probe listener, then the cluster or manifests source until SIGTERM.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;

use crate::{
    config::{Command, Config, ManifestsWatch},
    crdgen,
    health::{self, HealthState, Started},
    leader::Election,
    metrics::Metrics,
    shutdown,
    source::{
        cluster::{self, ClusterSettings},
        manifests::{self, watcher::DirectoryWatcher},
    },
    telemetry,
};

/// Runs the command `config` asks for until it finishes or a shutdown signal arrives.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if let Some(Command::Crd) = config.command {
        print!("{}", crdgen::render()?);
        return Ok(());
    }
    telemetry::init(config.log_format);

    let database_url = config
        .database_url
        .as_deref()
        .context("DATABASE_URL is not set")?;
    let db = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect(database_url)
        .await
        .context("connecting to PostgreSQL")?;
    // The migrator holds an advisory lock, so replicas starting together are safe.
    liveops_domain::MIGRATOR
        .run(&db)
        .await
        .context("running migrations")?;

    let (trigger, stop) = shutdown::channel();
    let trigger = std::sync::Arc::new(trigger);
    let on_signal = trigger.clone();
    tokio::spawn(async move {
        shutdown::signal().await;
        on_signal.fire();
    });

    let metrics = Metrics::new();
    let started = Started::default();
    let listener = TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("binding {}", config.listen_addr))?;
    tracing::info!(addr = %config.listen_addr, "serving /healthz /readyz /metrics");
    let probes = tokio::spawn(health::serve(
        listener,
        HealthState {
            db: db.clone(),
            metrics: metrics.clone(),
            started: started.clone(),
        },
        stop.clone().wait(),
    ));

    let outcome = match config.manifests.clone() {
        Some(dir) => {
            tracing::info!(dir = %dir.display(), "manifests mode: no cluster");
            started.set();
            let watcher = match config.manifests_watch {
                ManifestsWatch::Auto => DirectoryWatcher::new(&dir),
                ManifestsWatch::Poll => DirectoryWatcher::polling(),
            };
            manifests::run_watching(dir, db.clone(), metrics, watcher, stop.clone().wait())
                .await
                .map_err(anyhow::Error::from)
        }
        None => run_cluster(&config, db.clone(), metrics, started, stop.clone()).await,
    };
    // Whatever ended the source, stop the probe listener too.
    trigger.fire();
    match probes.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(error = %error, "probe listener failed"),
        Err(error) => tracing::warn!(error = %error, "probe listener panicked"),
    }
    db.close().await;
    tracing::info!("stopped");
    outcome
}

async fn run_cluster(
    config: &Config,
    db: sqlx::PgPool,
    metrics: Metrics,
    started: Started,
    stop: shutdown::Shutdown,
) -> anyhow::Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes cluster (kubeconfig or in-cluster service account); use --manifests DIR to run without one")?;
    let identity = config.identity();
    let election = config.leader_election.then(|| Election {
        lease_name: config.lease_name.clone(),
        namespace: config
            .lease_namespace()
            .map_or_else(|| client.default_namespace().to_owned(), ToOwned::to_owned),
        identity: identity.clone(),
    });
    let settings = ClusterSettings {
        watch_namespace: config.watch_namespace().map(ToOwned::to_owned),
        identity,
        election,
    };
    cluster::run(client, db, metrics, settings, started, stop).await?;
    Ok(())
}
