//! The /healthz, /readyz and /metrics listener.
//!
//! `/healthz` answers as long as the process serves requests. `/readyz`
//! answers 200 only when PostgreSQL is reachable and the source (cluster
//! controllers, or the manifests watcher) has started. `/metrics` is the
//! Prometheus text exposition.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

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

/// Set once the source has started; read by `/readyz`.
#[derive(Clone, Debug, Default)]
pub struct Started(Arc<AtomicBool>);

impl Started {
    /// Marks the source as started.
    pub fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether the source has started.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// What the probes look at.
#[derive(Clone, Debug)]
pub struct HealthState {
    pub db: PgPool,
    pub metrics: Metrics,
    pub started: Started,
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
    if !state.started.get() {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting");
    }
    let probe = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.db);
    let outcome = tokio::time::timeout(DATABASE_PROBE_TIMEOUT, probe).await;
    state.metrics.record_database_check(matches!(outcome, Ok(Ok(_))));
    match outcome {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database timed out"),
    }
}

async fn metrics(State(state): State<HealthState>) -> impl IntoResponse {
    (
        // prometheus-client writes OpenMetrics text (counters as `_total`, a final `# EOF`).
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render_with_stock(&state.db).await,
    )
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use http_body_util::BodyExt;
    use liveops_testkit::TestDb;
    use tower::ServiceExt;

    use super::{HealthState, Started, router};
    use crate::metrics::Metrics;

    async fn get(state: &HealthState, path: &str) -> (u16, String) {
        let response = router(state.clone())
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn readyz_waits_for_the_source_then_checks_the_database() {
        let db = TestDb::new().await;
        let state = HealthState {
            db: db.pool.clone(),
            metrics: Metrics::new(),
            started: Started::default(),
        };
        assert_eq!(get(&state, "/healthz").await.0, 200);
        assert_eq!(get(&state, "/readyz").await.0, 503);
        state.started.set();
        assert_eq!(get(&state, "/readyz").await, (200, "ready".to_owned()));
        assert!(
            get(&state, "/metrics")
                .await
                .1
                .contains("\nliveops_database_up 1\n")
        );
        db.pool.close().await;
        assert_eq!(get(&state, "/readyz").await.0, 503);
        assert!(
            get(&state, "/metrics")
                .await
                .1
                .contains("\nliveops_database_up 0\n")
        );
    }

    #[tokio::test]
    async fn metrics_are_exposed_as_prometheus_text() {
        let db = TestDb::new().await;
        let metrics = Metrics::new();
        drop(metrics.reconcile_started("Event"));
        let state = HealthState {
            db: db.pool.clone(),
            metrics,
            started: Started::default(),
        };
        let (status, body) = get(&state, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            body.contains(r#"liveops_operator_reconciles_total{kind="Event"} 1"#),
            "{body}"
        );
    }
}
