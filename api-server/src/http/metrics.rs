//! Prometheus metrics (docs/metrics.md is the contract), on prometheus-client
//! like the operator's and the relay's: requests by route template, method
//! and status, their latency, claims by outcome and reason, and whether the
//! database answers. Served at `/metrics` on their own listener
//! (METRICS_ADDR), never on the public API port.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use super::{AppState, Error};
use crate::claim::ClaimRefusal;

/// How long a scrape waits for the database check.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Labels of the request counter and histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// Labels of the claim counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClaimLabels {
    outcome: &'static str,
    reason: String,
}

/// Labels of the signal counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignalLabels {
    status: &'static str,
}

/// The API server's metrics and the registry that exports them; one per
/// server, so servers sharing a process (tests) never mix their figures.
#[derive(Clone)]
pub struct ApiMetrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram>,
    claims: Family<ClaimLabels, Counter>,
    signals: Family<SignalLabels, Counter>,
    database_up: Gauge,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiMetrics {
    /// Creates the metrics in a registry of their own, prefix `liveops_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("liveops");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "Answered requests", requests.clone());
        // 1 ms .. ~16 s
        let durations = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "http_request_duration_seconds",
            "Request latency",
            durations.clone(),
        );
        let claims = Family::<ClaimLabels, Counter>::default();
        registry.register("claims", "Claim attempts by outcome and reason", claims.clone());
        let signals = Family::<SignalLabels, Counter>::default();
        registry.register(
            "signals",
            "Posted signals by status: accepted, duplicate, outside_window, rejected",
            signals.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the last database check succeeded",
            database_up.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            durations,
            claims,
            signals,
            database_up,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            tracing::warn!("cannot encode the metrics");
        }
        text
    }

    /// Records the outcome of a database check (a scrape's or `/readyz`'s).
    pub fn record_database_check(&self, reachable: bool) {
        self.database_up.set(i64::from(reachable));
    }

    /// A claim granted.
    pub fn count_granted_claim(&self) {
        self.count_claim("granted", "none".to_owned());
    }

    /// A claim refused, by its code in lower case (`sold_out`, ...).
    pub fn count_refused_claim(&self, refusal: ClaimRefusal) {
        self.count_claim("refused", refusal.code().to_ascii_lowercase());
    }

    /// A claim that failed on the server's side, by failure class.
    pub fn count_failed_claim(&self, error: &Error) {
        let class = match error {
            Error::Unavailable => "database",
            Error::ClaimContention => "contention",
            _ => "internal",
        };
        self.count_claim("error", class.to_owned());
    }

    /// `count` posted signals that ended as `status` (`accepted`,
    /// `duplicate`, `outside_window` or `rejected`).
    pub fn count_signals(&self, status: &'static str, count: u64) {
        if count > 0 {
            self.signals.get_or_create(&SignalLabels { status }).inc_by(count);
        }
    }

    fn count_claim(&self, outcome: &'static str, reason: String) {
        self.claims.get_or_create(&ClaimLabels { outcome, reason }).inc();
    }
}

/// The metrics listener's whole app: `/metrics`, and 404 for anything else.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

/// The exposition, after a fresh database check.
async fn render_metrics(State(state): State<AppState>) -> Response {
    let check = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.db);
    let reachable = matches!(
        tokio::time::timeout(DATABASE_CHECK_TIMEOUT, check).await,
        Ok(Ok(_))
    );
    state.metrics.record_database_check(reachable);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Middleware: counts and times each request under its route template
/// (`/auth/users/{userId}/role`, not the concrete path, to bound cardinality).
pub async fn track_request(State(metrics): State<ApiMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let labels = RequestLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .durations
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}
