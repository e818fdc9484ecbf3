//! Liveness and readiness probes.

use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{AppState, Error, Result, error_responses::Unavailable};

/// `/healthz` and `/readyz`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_liveness))
        .routes(routes!(check_readiness))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "alive", body = str, content_type = "text/plain")))]
pub async fn check_liveness() -> &'static str {
    "ok"
}

/// The database answers; a replica without it should get no traffic.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "ready", body = str, content_type = "text/plain"),
        Unavailable,
    )
)]
pub async fn check_readiness(State(state): State<AppState>) -> Result<(StatusCode, &'static str)> {
    let checked = sqlx::query_scalar!("select 1 as \"one!\"")
        .fetch_one(&state.db)
        .await;
    state.metrics.record_database_check(checked.is_ok());
    checked.map_err(|error| {
        tracing::warn!(%error, "readiness check failed");
        Error::Unavailable
    })?;
    Ok((StatusCode::OK, "ready"))
}
