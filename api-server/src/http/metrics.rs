//! Prometheus metrics (docs/metrics.md is the contract): requests by route
//! template, method and status, their latency, claims by outcome and
//! reason, and whether the database answers. Served at `/metrics` on their
//! own listener (METRICS_ADDR), never on the public API port.

use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
    routing::get,
};

use super::{AppState, Error};
use crate::claim::ClaimRefusal;

/// Counter of answered requests.
pub const REQUESTS_TOTAL: &str = "liveops_http_requests_total";
/// Histogram of request latency.
pub const REQUEST_DURATION: &str = "liveops_http_request_duration_seconds";
/// Counter of claim attempts by outcome and reason.
pub const CLAIMS_TOTAL: &str = "liveops_claims_total";
/// 1 when the last database check succeeded, else 0.
pub const DATABASE_UP: &str = "liveops_database_up";

/// How long a scrape waits for the database check.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// The metrics listener's whole app: `/metrics`, and 404 for anything else.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

/// The Prometheus text exposition, after a fresh database check.
async fn render_metrics(State(state): State<AppState>) -> String {
    let check = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.db);
    let reachable = matches!(
        tokio::time::timeout(DATABASE_CHECK_TIMEOUT, check).await,
        Ok(Ok(_))
    );
    record_database_check(reachable);
    state.metrics.render()
}

/// Records the outcome of a database check (a scrape's or `/readyz`'s).
pub fn record_database_check(reachable: bool) {
    metrics::gauge!(DATABASE_UP).set(if reachable { 1.0 } else { 0.0 });
}

/// A claim granted.
pub fn count_granted_claim() {
    metrics::counter!(CLAIMS_TOTAL, "outcome" => "granted", "reason" => "none").increment(1);
}

/// A claim refused, by its code in lower case (`sold_out`, ...).
pub fn count_refused_claim(refusal: ClaimRefusal) {
    let reason = refusal.code().to_ascii_lowercase();
    metrics::counter!(CLAIMS_TOTAL, "outcome" => "refused", "reason" => reason).increment(1);
}

/// A claim that failed on the server's side, by failure class.
pub fn count_failed_claim(error: &Error) {
    let class = match error {
        Error::Unavailable => "database",
        Error::ClaimContention => "contention",
        _ => "internal",
    };
    metrics::counter!(CLAIMS_TOTAL, "outcome" => "error", "reason" => class).increment(1);
}

/// Middleware: counts and times each request under its route template
/// (`/auth/users/{userId}/role`, not the concrete path, to bound cardinality).
pub async fn track_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}
