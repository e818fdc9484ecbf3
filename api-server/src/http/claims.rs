//! POST /claims/{rewardId}/claim (DESIGN.md, "REST API"; the transaction
//! itself is in `crate::claim`). The history listings are in `claim_history`.

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{Authorized, UsersOnly},
    extract::Path,
};
use crate::claim::{
    self, ClaimOutcome, ClaimRefusal,
    history::ClaimStatus,
    idempotency::{self, Reservation},
};

/// Header naming a retry-safe claim request.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on answers replayed from an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// Largest stored answer read back into memory (answers are small JSON).
const ANSWER_LIMIT_BYTES: usize = 64 * 1024;

/// The claim route.
pub fn router() -> Router<AppState> {
    Router::new().route("/claims/{reward_id}/claim", post(claim_reward))
}

impl From<ClaimRefusal> for Error {
    fn from(refusal: ClaimRefusal) -> Self {
        match refusal {
            ClaimRefusal::RewardNotFound => Error::RewardNotFound,
            ClaimRefusal::EventNotActive(_) => Error::EventNotActive(refusal.message()),
            ClaimRefusal::ConditionNotMet => Error::ConditionNotMet,
            ClaimRefusal::AlreadyClaimed => Error::AlreadyClaimed,
            ClaimRefusal::SoldOut { .. } => Error::SoldOut(refusal.message()),
        }
    }
}

/// A granted claim as the API answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantedClaimBody {
    /// Claim id.
    pub id: Uuid,
    /// Always `success`.
    pub status: ClaimStatus,
    /// The reward granted.
    pub reward_id: Uuid,
    /// Its event.
    pub event_id: Uuid,
    /// `once`, a local date (Daily) or an ISO week (Weekly).
    pub period_key: String,
    /// Which of the reward's `perUserLimit` grants in this period this is.
    pub slot: i32,
    /// Event generation whose rules granted the claim.
    pub event_generation: i64,
    /// When it was granted (database clock).
    pub created_at: DateTime<Utc>,
}

/// `{"message", "claim"}`, the seed's answer to a claim.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimAnswer {
    /// Human-readable summary.
    pub message: String,
    /// The granted claim.
    pub claim: GrantedClaimBody,
}

/// Claims a reward for the caller (USER only). One statement decides
/// window, condition, per-user limit, event cap and stock; every refusal is
/// recorded as a failed claim. With `Idempotency-Key`, a retry gets the
/// first answer again.
#[utoipa::path(
    post,
    path = "/claims/{rewardId}/claim",
    tag = "claims",
    params(
        ("rewardId" = Uuid, Path, description = "Reward to claim"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    responses(
        (status = 201, description = "granted", body = ClaimAnswer),
        (status = 400, description = "CONDITION_NOT_MET, EVENT_NOT_ACTIVE, VALIDATION_FAILED", body = super::error::Problem),
        (status = 403, description = "only USER may claim", body = super::error::Problem),
        (status = 404, description = "REWARD_NOT_FOUND", body = super::error::Problem),
        (status = 409, description = "ALREADY_CLAIMED, SOLD_OUT, IDEMPOTENCY_KEY_IN_USE", body = super::error::Problem),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED (the key was used for another reward)", body = super::error::Problem),
        (status = 503, description = "CLAIM_CONTENTION (retries exhausted; retry shortly)", body = super::error::Problem),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip(state, headers), fields(user_id = %who.user_id))]
pub async fn claim_reward(
    who: Authorized<UsersOnly>,
    State(state): State<AppState>,
    Path(reward_id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response> {
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .map(|value| idempotency::parse_key(value.as_bytes()))
        .transpose()
        .map_err(Error::Validation)?;
    let Some(key) = key else {
        return claim_once(&state, who.user_id, reward_id, None).await;
    };
    let request_path = format!("/claims/{reward_id}/claim");
    match idempotency::reserve(&state.db, who.user_id, key, &request_path).await? {
        Reservation::Fresh => {}
        Reservation::Replay { status, body } => return Ok(replay(status, &body)),
        Reservation::InProgress => return Err(Error::IdempotencyKeyInUse),
        Reservation::OtherRequest => return Err(Error::IdempotencyKeyReused),
    }
    let answer = match claim_once(&state, who.user_id, reward_id, Some(key)).await {
        Ok(response) => response,
        Err(error) if error.status_and_code().0.is_client_error() => error.into_response(),
        Err(error) => {
            // Unexpected failure: forget the key so a retry runs afresh.
            idempotency::release(&state.db, who.user_id, key).await?;
            return Err(error);
        }
    };
    let (parts, body) = answer.into_parts();
    let bytes = to_bytes(body, ANSWER_LIMIT_BYTES)
        .await
        .map_err(|error| Error::Internal(anyhow::anyhow!("reading the claim answer: {error}")))?;
    let stored: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|error| Error::Internal(anyhow::anyhow!("claim answer is not JSON: {error}")))?;
    idempotency::store_answer(&state.db, who.user_id, key, parts.status.as_u16(), &stored).await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// Runs the claim transaction and turns its outcome into an answer.
async fn claim_once(state: &AppState, user_id: Uuid, reward_id: Uuid, key: Option<&str>) -> Result<Response> {
    let outcome = claim::claim_reward(&state.db, user_id, reward_id, key)
        .await
        .map_err(|error| {
            if claim::statement_errors::is_transient(&error) {
                Error::ClaimContention
            } else {
                Error::Database(error)
            }
        })?;
    match outcome {
        ClaimOutcome::Granted(granted) => {
            let answer = ClaimAnswer {
                message: "Reward claimed.".to_owned(),
                claim: GrantedClaimBody {
                    id: granted.claim_id,
                    status: ClaimStatus::Success,
                    reward_id: granted.reward_id,
                    event_id: granted.event_id,
                    period_key: granted.period_key,
                    slot: granted.slot,
                    event_generation: granted.event_generation,
                    created_at: granted.created_at,
                },
            };
            Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
        }
        ClaimOutcome::Refused { refusal, .. } => Err(refusal.into()),
    }
}

/// The stored first answer, sent again.
fn replay(status: u16, body: &serde_json::Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}
