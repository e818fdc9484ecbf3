//! POST /signals: game servers post batches of signals, each counted once
//! by its id (DESIGN.md, "Challenges"). The checks and the statement live
//! in `ingest`; this file maps them to HTTP.

use axum::extract::{DefaultBodyLimit, State};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState, Error, Result,
    client_auth::IngestCaller,
    error::Problem,
    error_responses::{BadRequest, PROBLEM_JSON, RateLimited, Unauthenticated, Unavailable},
    extract::Json,
};
use crate::ingest::{
    BatchOutcome, MAX_SIGNALS_PER_BATCH, SignalInput, SignalStatus,
    client_rate::Budget,
    record_batch,
    signal::{AcceptanceWindow, check_batch},
};

/// The largest batch body: 256 KiB, whatever MAX_BODY_BYTES says.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// `/signals`, with its own body limit.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_signals))
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
}

/// A batch of signals.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalBatch {
    /// 1..500 signals.
    pub signals: Vec<SignalInput>,
}

/// What happened to one signal.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalResult {
    /// The signal's id as posted.
    pub id: String,
    /// `accepted`, `duplicate` or `outside_window`.
    pub status: SignalStatus,
}

/// The answer to a recorded batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalsResponse {
    /// Signals counted now.
    pub accepted: usize,
    /// Signals counted before (or repeated within the batch).
    pub duplicates: usize,
    /// One per posted signal, in posted order.
    pub results: Vec<SignalResult>,
}

/// Counts a batch of signals. A contract error in any signal rejects the
/// whole batch (422, every error listed) and records nothing.
#[utoipa::path(
    post,
    path = "/signals",
    tag = "ingest",
    request_body = SignalBatch,
    security(("client_token" = [])),
    responses(
        (status = 200, description = "recorded; the status of each signal", body = SignalsResponse),
        BadRequest,
        Unauthenticated,
        (status = 413, description = "PAYLOAD_TOO_LARGE: over 500 signals or 256 KiB", body = Problem, content_type = PROBLEM_JSON),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE: a body without Content-Type: application/json", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "SIGNALS_REJECTED (per-signal `errors`) or COUNTER_OVERFLOW: nothing recorded",
            body = Problem, content_type = PROBLEM_JSON),
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(client = %caller.name))]
pub async fn post_signals(
    State(state): State<AppState>,
    caller: IngestCaller,
    Json(batch): Json<SignalBatch>,
) -> Result<Json<SignalsResponse>> {
    let posted = batch.signals;
    if posted.len() > MAX_SIGNALS_PER_BATCH {
        return Err(Error::TooManySignals);
    }
    if posted.is_empty() {
        return Err(Error::Validation(
            "a batch carries at least one signal".to_owned(),
        ));
    }
    match state
        .signal_budgets
        .spend(&state.db, caller.client_id, posted.len())
        .await?
    {
        Budget::Granted => {}
        Budget::Exhausted { retry_after_seconds } => return Err(Error::RateLimited { retry_after_seconds }),
        Budget::ClientGone => return Err(client_gone(&caller)),
    }
    let settings = &state.config.ingest;
    let window = AcceptanceWindow {
        now: Utc::now(),
        future_skew: Duration::seconds(settings.signal_future_skew_seconds.into()),
        max_age: Duration::seconds(settings.signal_acceptance_window_seconds.into()),
    };
    let checked = check_batch(&posted, window);
    let metrics = &state.metrics;
    match record_batch(&state.db, caller.client_id, &posted, &checked).await? {
        BatchOutcome::Recorded(statuses) => {
            let answer = answer(&posted, &statuses);
            metrics.count_signals("accepted", answer.accepted as u64);
            metrics.count_signals("duplicate", answer.duplicates as u64);
            let outside = posted.len() - answer.accepted - answer.duplicates;
            metrics.count_signals("outside_window", outside as u64);
            Ok(Json(answer))
        }
        BatchOutcome::Rejected(rejections) => {
            metrics.count_signals("rejected", posted.len() as u64);
            Err(Error::SignalsRejected(rejections))
        }
        BatchOutcome::Overflow => {
            metrics.count_signals("rejected", posted.len() as u64);
            Err(Error::CounterOverflow)
        }
        BatchOutcome::ClientGone => Err(client_gone(&caller)),
    }
}

fn client_gone(caller: &IngestCaller) -> Error {
    tracing::info!(client = %caller.name, "signals rejected: client suspended or deleted");
    Error::Unauthorized("the client is suspended or deleted")
}

fn answer(posted: &[SignalInput], statuses: &[SignalStatus]) -> SignalsResponse {
    let count = |wanted: SignalStatus| statuses.iter().filter(|status| **status == wanted).count();
    SignalsResponse {
        accepted: count(SignalStatus::Accepted),
        duplicates: count(SignalStatus::Duplicate),
        results: posted
            .iter()
            .zip(statuses)
            .map(|(signal, status)| SignalResult {
                id: signal.id.clone(),
                status: *status,
            })
            .collect(),
    }
}
