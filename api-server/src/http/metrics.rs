//! Prometheus metrics: requests by route template, method and status, and a
//! latency histogram; rendered at `/metrics`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;

/// Counter of answered requests.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram of request latency.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";

/// `/metrics`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(render_metrics))
}

/// The Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = str, content_type = "text/plain")))]
pub async fn render_metrics(State(state): State<AppState>) -> String {
    state.metrics.render()
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
