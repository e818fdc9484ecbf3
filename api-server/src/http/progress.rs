//! GET /events/{eventId}/progress and GET /progress/me (DESIGN.md,
//! "Challenges"): the signed-in user's progress towards rewards, judged by
//! the claim's own predicate (`crate::challenge::progress`).

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{Authorized, UsersOnly},
    error::Problem,
    error_responses::{BadRequest, PROBLEM_JSON, Unauthenticated, Unavailable},
    extract::Path,
};
use crate::challenge::{EventProgress, user_progress};

/// The progress routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_event_progress))
        .routes(routes!(get_my_progress))
}

/// `{"serverTime", "event": {...}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventProgressAnswer {
    /// The database clock the answer was read at.
    pub server_time: DateTime<Utc>,
    /// The event and each reward's progress.
    pub event: EventProgress,
}

/// `{"serverTime", "events": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressAnswer {
    /// The database clock the answer was read at.
    pub server_time: DateTime<Utc>,
    /// Every event open for claims now, soonest start first.
    pub events: Vec<EventProgress>,
}

/// The user's progress in one event: per reward whether a claim now would
/// be granted, the refusal code if not (the claim's own precedence), and
/// each requirement's current value and target. 404 when the event is
/// unknown, deleted or not announced yet. USER role.
#[utoipa::path(get, path = "/events/{eventId}/progress", tag = "progress",
    params(("eventId" = Uuid, Path, description = "Event id")),
    responses(
        (status = 200, description = "the user's progress", body = EventProgressAnswer, links(
            ("ClaimReward" = (operation_id = "claim_reward",
                parameters(("rewardId" = "$response.body#/event/rewards/0/rewardId")))),
        )),
        BadRequest, Unauthenticated,
        (status = 403, description = "FORBIDDEN: only USER has progress", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "EVENT_NOT_FOUND", body = Problem, content_type = PROBLEM_JSON),
        Unavailable),
    security(("bearer" = [])))]
#[tracing::instrument(skip(state), fields(user_id = %who.user_id))]
pub async fn get_event_progress(
    who: Authorized<UsersOnly>,
    State(state): State<AppState>,
    Path(event_id): Path<Uuid>,
) -> Result<Json<EventProgressAnswer>> {
    let progress = user_progress(&state.db, who.user_id, Some(event_id)).await?;
    let event = progress.events.into_iter().next().ok_or(Error::EventNotFound)?;
    Ok(Json(EventProgressAnswer {
        server_time: progress.server_time,
        event,
    }))
}

/// The user's progress in every event open for claims now. USER role.
#[utoipa::path(get, path = "/progress/me", tag = "progress",
    responses(
        (status = 200, description = "the user's progress", body = ProgressAnswer),
        Unauthenticated,
        (status = 403, description = "FORBIDDEN: only USER has progress", body = Problem, content_type = PROBLEM_JSON),
        Unavailable),
    security(("bearer" = [])))]
#[tracing::instrument(skip(state), fields(user_id = %who.user_id))]
pub async fn get_my_progress(
    who: Authorized<UsersOnly>,
    State(state): State<AppState>,
) -> Result<Json<ProgressAnswer>> {
    let progress = user_progress(&state.db, who.user_id, None).await?;
    Ok(Json(ProgressAnswer {
        server_time: progress.server_time,
        events: progress.events,
    }))
}
