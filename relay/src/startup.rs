//! Start-up: connect, migrate, serve the probes, refresh the gauges and
//! run the relay and webhook loops until told to stop. `serve` takes a bound listener
//! and a shutdown future, so tests run the real thing on port 0.

use std::{future::Future, time::Duration};

use anyhow::Context;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::{Cli, Command, Config},
    event_schema,
    health::{self, HealthState},
    metrics::Metrics,
    outbox,
    publisher::{self, RelaySettings},
    webhook::{self, WebhookSettings, attempt::Clients},
};

/// How often the pending / oldest-age / dead-letter gauges are refreshed.
const STATS_EVERY: Duration = Duration::from_secs(5);

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::EventSchemas { write: Some(dir) }) => {
            event_schema::write_all(&dir)?;
            println!("wrote the event schemas to {}", dir.display());
            Ok(())
        }
        Some(Command::EventSchemas { write: None }) => {
            for (file, text) in event_schema::render_all() {
                println!("# {file}\n{text}");
            }
            Ok(())
        }
        None | Some(Command::Serve) => {
            cli.config.validate()?;
            let listener = TcpListener::bind(cli.config.listen_addr)
                .await
                .with_context(|| format!("cannot listen on {}", cli.config.listen_addr))?;
            tracing::info!(address = %cli.config.listen_addr, transport = ?cli.config.transport, "relay starting");
            serve(listener, cli.config, shutdown_signal()).await
        }
    }
}

/// Connects and migrates (the shared `MIGRATOR` holds an advisory lock, so
/// replicas of every binary may start together), then relays until
/// `shutdown` completes; the batch in flight is finished first.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(3))
        .connect(config.database_url())
        .await
        .context("cannot connect to DATABASE_URL")?;
    liveops_domain::MIGRATOR
        .run(&db)
        .await
        .context("database migration failed")?;
    let metrics = Metrics::new();
    let (stop, stopped) = watch::channel(false);
    let mut probe_stop = stopped.clone();
    let probes = tokio::spawn(health::serve(
        listener,
        HealthState {
            db: db.clone(),
            metrics: metrics.clone(),
        },
        async move {
            let _ = probe_stop.wait_for(|stop| *stop).await;
        },
    ));
    let clients = Clients::new(Duration::from_millis(config.webhook_timeout_ms))
        .context("cannot build the webhook HTTP client")?;
    let webhooks = tokio::spawn(webhook::run(
        db.clone(),
        clients,
        WebhookSettings::from_config(&config),
        metrics.clone(),
        stopped.clone(),
    ));
    let gauges = tokio::spawn(refresh_gauges(db, metrics.clone()));
    let relay = tokio::spawn(publisher::run(
        RelaySettings::from_config(&config),
        metrics,
        stopped,
    ));
    shutdown.await;
    let _ = stop.send(true);
    let relayed = relay.await;
    let delivered = webhooks.await;
    gauges.abort();
    probes
        .await
        .context("probe server panicked")?
        .context("probe server failed")?;
    delivered.context("webhook loop panicked")?;
    relayed.context("relay loop panicked")
}

/// Refreshes the outbox gauges forever; every replica does, leader or not.
pub async fn refresh_gauges(db: PgPool, metrics: Metrics) {
    let mut every = tokio::time::interval(STATS_EVERY);
    loop {
        every.tick().await;
        match outbox::stats(&db).await {
            Ok(stats) => metrics.set_stats(stats),
            Err(error) => {
                metrics.error("database");
                tracing::warn!(%error, "cannot read the outbox gauges");
            }
        }
    }
}

/// Completes on SIGTERM (Kubernetes) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the batch in flight");
}
