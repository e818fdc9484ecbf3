//! Liveness and readiness probes.

use axum::{Router, extract::State, http::StatusCode, routing::get};

use super::{AppState, Error, Result};

/// `/healthz` and `/readyz`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(check_liveness))
        .route("/readyz", get(check_readiness))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn check_liveness() -> &'static str {
    "ok"
}

/// The database answers; a replica without it should get no traffic.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "ready"),
        (status = 503, description = "NOT_READY: database unreachable", body = super::error::Problem),
    )
)]
pub async fn check_readiness(State(state): State<AppState>) -> Result<(StatusCode, &'static str)> {
    sqlx::query_scalar!("select 1 as \"one!\"")
        .fetch_one(&state.db)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "readiness check failed");
            Error::NotReady
        })?;
    Ok((StatusCode::OK, "ready"))
}
