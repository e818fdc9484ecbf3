//! Start-up: connect, migrate, bootstrap the first ADMIN, serve (with the
//! background jobs: key cleanup, mail delivery) until told to stop. `serve` takes a bound listener and a shutdown future, so tests
//! run the real server on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::net::TcpListener;

use crate::{
    access_token::JwtKeys,
    account::{
        mail::{
            MailQueue,
            delivery::{self, Mailer},
        },
        password,
    },
    admin_bootstrap::{self, AdminBootstrapError, AdminOutcome},
    claim,
    config::{Cli, Command, Config},
    http::{self, AppState},
    ingest::ClientTokenKeys,
};

/// How long in-flight requests get to finish after a shutdown signal
/// (Kubernetes waits 30 s by default before SIGKILL).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(Command::Serve) => {
            let config = cli.config;
            let state = build_state(config).await?;
            let listener = TcpListener::bind(state.config.listen_addr)
                .await
                .with_context(|| format!("cannot listen on {}", state.config.listen_addr))?;
            let metrics_listener = TcpListener::bind(state.config.metrics_addr)
                .await
                .with_context(|| format!("cannot listen on METRICS_ADDR {}", state.config.metrics_addr))?;
            tracing::info!(address = %state.config.listen_addr, metrics = %state.config.metrics_addr, "serving");
            serve_until_signal(listener, metrics_listener, state).await
        }
        Some(Command::CreateAdmin { email, password }) => {
            let db = connect_and_migrate(&cli.config).await?;
            match admin_bootstrap::ensure_admin(&db, &email, password.expose()).await? {
                AdminOutcome::Created(id) => println!("created ADMIN {email} ({id})"),
                AdminOutcome::AlreadyAdmin(id) => println!("ADMIN {email} already exists ({id})"),
            }
            Ok(())
        }
    }
}

/// Connects to the database and applies pending migrations. `MIGRATOR.run`
/// holds a Postgres advisory lock, so replicas starting together are safe.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<PgPool> {
    let db = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        // A request waits at most this long for a connection before it answers
        // 503 UNAVAILABLE: long enough to ride out a busy moment, short enough
        // that a client is not left hanging while the database is away.
        .acquire_timeout(Duration::from_secs(3))
        .connect(config.database_url.expose())
        .await
        .context("cannot connect to DATABASE_URL")?;
    liveops_domain::MIGRATOR
        .run(&db)
        .await
        .context("database migration failed")?;
    Ok(db)
}

/// Validates the configuration, prepares the database and the first ADMIN,
/// and assembles the handlers' state.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    config.validate()?;
    let jwt = JwtKeys::from_config(&config)?;
    let client_tokens = ClientTokenKeys::from_config(&config)?;
    let mailer = Mailer::new(
        config.smtp_url.as_ref().map(|url| url.expose()),
        &config.mail_from,
    )?;
    let db = connect_and_migrate(&config).await?;
    if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
        match admin_bootstrap::ensure_admin(&db, email, password.expose()).await {
            Ok(AdminOutcome::Created(id)) => {
                tracing::info!(%email, %id, "created the ADMIN from ADMIN_EMAIL")
            }
            Ok(AdminOutcome::AlreadyAdmin(id)) => {
                tracing::info!(%email, %id, "the ADMIN from ADMIN_EMAIL exists")
            }
            // Refusing to start here would let anyone who signs up with
            // ADMIN_EMAIL keep every replica down; serve, and say so loudly.
            Err(error @ AdminBootstrapError::EmailHeldByNonAdmin { .. }) => {
                tracing::error!(%error, "ADMIN_EMAIL not bootstrapped");
            }
            Err(error) => return Err(error.into()),
        }
    }
    password::warm_up().await?;
    Ok(AppState {
        mail: MailQueue::new(config.public_url.clone()),
        mailer,
        db,
        config: Arc::new(config),
        jwt: Arc::new(jwt),
        client_tokens: Arc::new(client_tokens),
        signal_budgets: Arc::default(),
        metrics: http::metrics::ApiMetrics::new(),
    })
}

/// Serves the API on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let key_ttl = Duration::from_secs(u64::from(state.config.idempotency_key_ttl_seconds));
    let cleanup = tokio::spawn(claim::idempotency::run_key_cleanup(state.db.clone(), key_ttl));
    let totals = tokio::spawn(claim::event_totals::run_event_totals(state.db.clone()));
    // Mail queued but not sent at shutdown stays in the outbox for the
    // next replica to send.
    let mail = tokio::spawn(delivery::run(
        state.db.clone(),
        state.mailer.clone(),
        state.mail.wakeup(),
    ));
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    cleanup.abort();
    totals.abort();
    mail.abort();
    served
}

/// Serves `/metrics` alone on `listener` (METRICS_ADDR) until `shutdown`.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, http::metrics::app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves until SIGTERM or Ctrl-C, then gives in-flight requests
/// [`SHUTDOWN_GRACE`] to finish before giving up on them.
async fn serve_until_signal(
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
) -> anyhow::Result<()> {
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_sender.send(true);
    });
    let mut metrics_stop = stop.clone();
    let metrics = tokio::spawn(serve_metrics(metrics_listener, state.clone(), async move {
        let _ = metrics_stop.wait_for(|stopping| *stopping).await;
    }));
    // The metrics listener only ends with the process; a failure is logged, not fatal.
    tokio::spawn(async move {
        if let Ok(Err(error)) = metrics.await {
            tracing::error!(%error, "metrics listener failed");
        }
    });
    let mut server_stop = stop.clone();
    let server = serve(listener, state, async move {
        let _ = server_stop.wait_for(|stopping| *stopping).await;
    });
    let mut grace_stop = stop;
    let grace_expired = async move {
        let _ = grace_stop.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server => served.context("server failed"),
        () = grace_expired => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running after the shutdown grace; exiting");
            Ok(())
        }
    }
}

/// Completes on SIGTERM (Kubernetes) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
