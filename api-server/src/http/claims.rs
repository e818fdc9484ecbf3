//! POST /claims/{rewardId}/claim and the claim history listings
//! (DESIGN.md, "REST API"; the transaction itself is in `crate::claim`).

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized, Staff, UsersOnly},
    extract::{Path, Query},
};
use crate::claim::{
    self, ClaimOutcome, ClaimRefusal,
    cursor::{Cursor, page_limit},
    history::{ClaimFilter, ClaimRecord, ClaimStatus, list_claims},
    idempotency::{self, Reservation},
};

/// Header naming a retry-safe claim request.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on answers replayed from an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// Largest stored answer read back into memory (answers are small JSON).
const ANSWER_LIMIT_BYTES: usize = 64 * 1024;

/// The claim routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/claims/{reward_id}/claim", post(claim_reward))
        .route("/claims/me", get(list_my_claims))
        .route("/claims", get(list_all_claims))
        .route("/claims/user/{user_id}", get(list_user_claims))
        .route("/claims/filter", get(filter_claims))
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
            if claim::transaction::is_transient(&error) {
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

/// `limit` and `cursor` of every claim listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Query of GET /claims/filter: every field narrows the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    /// `success` or `failed`.
    pub status: Option<ClaimStatus>,
    /// Claims on this event.
    pub event_id: Option<Uuid>,
    /// Claims of this user.
    pub user_id: Option<Uuid>,
    /// Claims on this reward.
    pub reward_id: Option<Uuid>,
    /// Claims made at or after this RFC 3339 instant.
    pub from: Option<DateTime<Utc>>,
    /// Claims made before this RFC 3339 instant.
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// `{"message", "claims", "nextCursor"}`: one page, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimList {
    /// Human-readable summary.
    pub message: String,
    /// The page's claims, newest first.
    pub claims: Vec<ClaimRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

async fn page(
    state: &AppState,
    filter: &ClaimFilter,
    limit: Option<i64>,
    cursor: Option<&str>,
    message: String,
) -> Result<axum::Json<ClaimList>> {
    let limit = page_limit(limit).map_err(Error::Validation)?;
    let after = cursor
        .map(Cursor::decode)
        .transpose()
        .map_err(Error::Validation)?;
    let page = list_claims(&state.db, filter, after, limit).await?;
    Ok(axum::Json(ClaimList {
        message,
        claims: page.claims,
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
    }))
}

/// The caller's own claims (any role).
#[utoipa::path(get, path = "/claims/me", tag = "claims", params(PageQuery),
    responses((status = 200, body = ClaimList), (status = 400, body = super::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_my_claims(
    who: Authorized<AnyRole>,
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<ClaimList>> {
    let filter = ClaimFilter {
        user_id: Some(who.user_id),
        ..ClaimFilter::default()
    };
    page(
        &state,
        &filter,
        query.limit,
        query.cursor.as_deref(),
        "Your claims.".to_owned(),
    )
    .await
}

/// Every claim (ADMIN, OPERATOR, AUDITOR).
#[utoipa::path(get, path = "/claims", tag = "claims", params(PageQuery),
    responses((status = 200, body = ClaimList), (status = 400, body = super::error::Problem),
        (status = 403, body = super::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_all_claims(
    _who: Authorized<Staff>,
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<ClaimList>> {
    let filter = ClaimFilter::default();
    page(
        &state,
        &filter,
        query.limit,
        query.cursor.as_deref(),
        "All claims.".to_owned(),
    )
    .await
}

/// One user's claims (ADMIN, OPERATOR, AUDITOR).
#[utoipa::path(get, path = "/claims/user/{userId}", tag = "claims",
    params(("userId" = Uuid, Path, description = "Whose claims"), PageQuery),
    responses((status = 200, body = ClaimList), (status = 400, body = super::error::Problem),
        (status = 403, body = super::error::Problem), (status = 404, body = super::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_user_claims(
    _who: Authorized<Staff>,
    State(state): State<AppState>,
    Path(user_id): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<ClaimList>> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from users where id = $1) as "exists!""#,
        user_id
    )
    .fetch_one(&state.db)
    .await?;
    if !exists {
        return Err(Error::NotFound(format!("no user with id {user_id}")));
    }
    let filter = ClaimFilter {
        user_id: Some(user_id),
        ..ClaimFilter::default()
    };
    let message = format!("Claims of user {user_id}.");
    page(&state, &filter, query.limit, query.cursor.as_deref(), message).await
}

/// Claims narrowed by status, event, user, reward and time (ADMIN,
/// OPERATOR, AUDITOR); `from` is inclusive, `to` exclusive.
#[utoipa::path(get, path = "/claims/filter", tag = "claims", params(FilterQuery),
    responses((status = 200, body = ClaimList), (status = 400, body = super::error::Problem),
        (status = 403, body = super::error::Problem)),
    security(("bearer" = [])))]
pub async fn filter_claims(
    _who: Authorized<Staff>,
    State(state): State<AppState>,
    Query(query): Query<FilterQuery>,
) -> Result<axum::Json<ClaimList>> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(Error::Validation("`from` must not be after `to`".to_owned()));
    }
    let filter = ClaimFilter {
        user_id: query.user_id,
        status: query.status,
        event_id: query.event_id,
        reward_id: query.reward_id,
        from: query.from,
        to: query.to,
    };
    page(
        &state,
        &filter,
        query.limit,
        query.cursor.as_deref(),
        "Filtered claims.".to_owned(),
    )
    .await
}
