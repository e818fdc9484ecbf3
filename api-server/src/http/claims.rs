//! POST /claims/{rewardId}/claim (DESIGN.md, "REST API"; the transaction
//! itself is in `crate::claim`). The history listings are in `claim_history`.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::error_responses::{PROBLEM_JSON, RateLimited, Unauthenticated};
use super::{
    AppState, Error, Result,
    auth::{Authorized, UsersOnly},
    error::is_database_unavailable,
    extract::Path,
};
use crate::{
    claim::{self, ClaimOutcome, ClaimRequest, GrantedClaim, history::ClaimStatus, idempotency},
    rate_limit,
};

/// Header naming a retry-safe claim request.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on answers replayed from an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The claim route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(claim_reward))
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
    /// What the game needs to hand the reward out.
    pub reward: GrantedRewardBody,
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

/// The granted reward, with its payload for the game.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantedRewardBody {
    /// Reward id.
    pub id: Uuid,
    /// Object name of the Reward.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// The Reward's `spec.payload` (item code etc.), null when it has none.
    pub payload: Option<serde_json::Value>,
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
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$",
            description = "Makes a retry answer the claim (or refusal) the key was first used for"),
    ),
    responses(
        (status = 201, description = "granted; a replayed idempotent retry answers the first grant again", body = ClaimAnswer,
            headers(("Idempotent-Replayed" = String, description = "`true` on an answer replayed for a repeated Idempotency-Key")),
            links(("GetEvent" = (operation_id = "get_event", parameters(("eventId" = "$response.body#/claim/eventId")))))),
        (status = 400, description = "REQUIREMENTS_NOT_MET (the reward's spec.requires), CONDITION_NOT_MET, EVENT_NOT_ACTIVE, VALIDATION_FAILED (malformed rewardId or Idempotency-Key)",
            body = super::error::Problem, content_type = PROBLEM_JSON),
        Unauthenticated,
        (status = 403, description = "FORBIDDEN: only USER may claim", body = super::error::Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "REWARD_NOT_FOUND", body = super::error::Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "ALREADY_CLAIMED, SOLD_OUT", body = super::error::Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED (the key was used for another reward)",
            body = super::error::Problem, content_type = PROBLEM_JSON),
        RateLimited,
        (status = 503, description = "UNAVAILABLE (database unreachable) or CLAIM_CONTENTION (retries exhausted); retry after Retry-After",
            body = super::error::Problem, content_type = PROBLEM_JSON,
            headers(("Retry-After" = u64, description = "seconds to wait before retrying"))),
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
    rate_limit::count_attempt(
        &state.db,
        state.config.rate_limit_claims_per_minute,
        &[format!("claim:user:{}", who.user_id)],
    )
    .await?;
    let request = ClaimRequest {
        user_id: who.user_id,
        reward_id,
        key,
        key_ttl: Duration::from_secs(u64::from(state.config.idempotency_key_ttl_seconds)),
    };
    let answer = claim::claim_reward(&state.db, request).await.map_err(|error| {
        let failure = if claim::statement_errors::is_transient(&error) && !is_database_unavailable(&error) {
            Error::ClaimContention
        } else {
            Error::from(error)
        };
        state.metrics.count_failed_claim(&failure);
        failure
    })?;
    let mut response = match answer.outcome {
        ClaimOutcome::Granted(granted) => {
            state.metrics.count_granted_claim();
            (StatusCode::CREATED, Json(granted_answer(granted))).into_response()
        }
        ClaimOutcome::Refused(refusal) => {
            state.metrics.count_refused_claim(refusal);
            Error::Claim(refusal).into_response()
        }
    };
    if answer.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The seed's `{"message", "claim"}` answer for a granted claim.
fn granted_answer(granted: GrantedClaim) -> ClaimAnswer {
    ClaimAnswer {
        message: "Reward claimed.".to_owned(),
        claim: GrantedClaimBody {
            id: granted.claim_id,
            status: ClaimStatus::Success,
            reward_id: granted.reward.id,
            reward: GrantedRewardBody {
                id: granted.reward.id,
                name: granted.reward.name,
                display_name: granted.reward.display_name,
                payload: granted.reward.payload,
            },
            event_id: granted.event_id,
            period_key: granted.period_key,
            slot: granted.slot,
            event_generation: granted.event_generation,
            created_at: granted.created_at,
        },
    }
}
