//! The /healthz, /readyz and /metrics listener.
//!
//! `/readyz` answers 200 while PostgreSQL answers, whether or not the
//! broker does: a broker outage is the relay's job to ride out (backoff,
//! backlog), and failing readiness would only restart it in a loop.
//! Standbys are ready too. `/metrics` is the Prometheus text exposition.

use std::{future::Future, time::Duration};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::metrics::Metrics;

/// How long `/readyz` waits for the database before answering 503.
const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the probes look at.
#[derive(Clone, Debug)]
pub struct HealthState {
    /// Pool for the readiness probe and the gauges.
    pub db: PgPool,
    /// What /metrics renders.
    pub metrics: Metrics,
}

/// The probe and metrics routes.
pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: HealthState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<HealthState>) -> (StatusCode, &'static str) {
    let probe = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.db);
    let outcome = tokio::time::timeout(DATABASE_PROBE_TIMEOUT, probe).await;
    state
        .metrics
        .database_up
        .set(i64::from(matches!(outcome, Ok(Ok(_)))));
    match outcome {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database timed out"),
    }
}

async fn metrics(State(state): State<HealthState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
