//! GET /rewards and GET /rewards/event/{eventId}: stock and claims per
//! reward, for staff (ADMIN, OPERATOR, AUDITOR).

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{Authorized, Staff},
    error::Problem,
    error_responses::{BadRequest, Forbidden, PROBLEM_JSON, Unauthenticated, Unavailable},
    events::remaining,
    extract::Path,
};

/// The reward routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rewards))
        .routes(routes!(list_event_rewards))
}

/// A reward with its stock.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardView {
    /// Reward id.
    pub id: Uuid,
    /// Its event.
    pub event_id: Uuid,
    /// Kubernetes namespace of the Reward.
    pub namespace: String,
    /// Object name of the Reward.
    pub name: String,
    /// Name to show.
    pub display_name: String,
    /// What the reward is.
    pub description: String,
    /// Total stock; null = unlimited.
    pub quantity: Option<i32>,
    /// Successful claims so far.
    pub claimed: i32,
    /// Stock left; null = unlimited.
    pub remaining: Option<i32>,
    /// Grants per user per claim period.
    pub per_user_limit: i32,
    /// Free-form data handed to the game on claim.
    pub payload: Option<serde_json::Value>,
    /// When the operator first projected it.
    pub created_at: DateTime<Utc>,
    /// When the operator last changed it.
    pub updated_at: DateTime<Utc>,
}

/// A `rewards` row as the listings read it.
struct RewardRow {
    id: Uuid,
    event_id: Uuid,
    namespace: String,
    name: String,
    display_name: String,
    description: String,
    quantity: Option<i32>,
    claimed: i32,
    per_user_limit: i32,
    payload: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<RewardRow> for RewardView {
    fn from(row: RewardRow) -> Self {
        Self {
            remaining: remaining(row.quantity, row.claimed),
            id: row.id,
            event_id: row.event_id,
            namespace: row.namespace,
            name: row.name,
            display_name: row.display_name,
            description: row.description,
            quantity: row.quantity,
            claimed: row.claimed,
            per_user_limit: row.per_user_limit,
            payload: row.payload,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// `{"message", "rewards"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RewardList {
    /// Human-readable summary.
    pub message: String,
    /// The rewards.
    pub rewards: Vec<RewardView>,
}

/// Every live reward of a live event.
#[utoipa::path(get, path = "/rewards", tag = "rewards",
    responses((status = 200, description = "every live reward", body = RewardList), Unauthenticated, Forbidden, Unavailable),
    security(("bearer" = [])))]
pub async fn list_rewards(
    _who: Authorized<Staff>,
    State(state): State<AppState>,
) -> Result<axum::Json<RewardList>> {
    let rewards = sqlx::query_as!(
        RewardRow,
        // a reward of a deleted Event is not live, whatever its own row says
        "select r.id, r.event_id, r.namespace, r.name, r.display_name, r.description, r.quantity,
                r.claimed, r.per_user_limit, r.payload, r.created_at, r.updated_at
         from rewards r
         join events e on e.id = r.event_id and e.deleted_at is null
         where r.deleted_at is null
         order by r.namespace, r.name"
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(RewardView::from)
    .collect();
    Ok(axum::Json(RewardList {
        message: "All rewards.".to_owned(),
        rewards,
    }))
}

/// The live rewards of one live event; 404 when the event is unknown or deleted.
#[utoipa::path(get, path = "/rewards/event/{eventId}", tag = "rewards",
    params(("eventId" = Uuid, Path, description = "Event id")),
    responses((status = 200, description = "the event's live rewards", body = RewardList), BadRequest, Unauthenticated,
        Forbidden, (status = 404, description = "EVENT_NOT_FOUND", body = Problem, content_type = PROBLEM_JSON),
        Unavailable),
    security(("bearer" = [])))]
pub async fn list_event_rewards(
    _who: Authorized<Staff>,
    State(state): State<AppState>,
    Path(event_id): Path<Uuid>,
) -> Result<axum::Json<RewardList>> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from events where id = $1 and deleted_at is null) as "exists!""#,
        event_id
    )
    .fetch_one(&state.db)
    .await?;
    if !exists {
        return Err(Error::EventNotFound);
    }
    let rewards = sqlx::query_as!(
        RewardRow,
        "select id, event_id, namespace, name, display_name, description, quantity, claimed,
                per_user_limit, payload, created_at, updated_at
         from rewards where event_id = $1 and deleted_at is null
         order by name",
        event_id
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(RewardView::from)
    .collect();
    Ok(axum::Json(RewardList {
        message: format!("Rewards of event {event_id}."),
        rewards,
    }))
}
