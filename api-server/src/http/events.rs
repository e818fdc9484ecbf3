//! GET /events and GET /events/{id}: what a signed-in user can claim, with
//! each event's window, phase, condition and rewards with remaining stock.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use liveops_domain::ClaimFrequency;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized},
    error::Problem,
    error_responses::{BadRequest, PROBLEM_JSON, Unauthenticated, Unavailable},
    extract::{Path, Query},
};
use crate::role::Role;

/// The event routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
}

/// A reward as events show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventReward {
    /// Reward id: what POST /claims/{rewardId}/claim takes.
    pub id: Uuid,
    /// Object name of the Reward.
    pub name: String,
    /// Name to show.
    pub display_name: String,
    /// Total stock; null = unlimited.
    pub quantity: Option<i32>,
    /// Successful claims so far.
    pub claimed: i32,
    /// Stock left; null = unlimited.
    pub remaining: Option<i32>,
    /// Grants per user per claim period.
    pub per_user_limit: i32,
}

/// An event as users see it (DESIGN.md, "REST API").
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Event id.
    pub id: Uuid,
    /// Kubernetes namespace of the Event.
    pub namespace: String,
    /// Object name of the Event.
    pub name: String,
    /// Name to show.
    pub display_name: String,
    /// What the event is about.
    pub description: String,
    /// Claims open at this instant.
    pub starts_at: DateTime<Utc>,
    /// The event window ends (counting stops) at this instant.
    pub ends_at: DateTime<Utc>,
    /// Listed to players from this instant; null = as soon as it exists.
    pub announce_at: Option<DateTime<Utc>>,
    /// Claims close at this instant: `claimUntil`, or `endsAt` when unset.
    pub claims_close_at: DateTime<Utc>,
    /// Local time of day (`HH:MM`, the event's zone) when Daily and Weekly
    /// periods turn over.
    pub reset_at: String,
    /// IANA zone defining days for streaks and Daily/Weekly periods.
    pub time_zone: String,
    /// Scheduled, Active, Ended, Suspended or Invalid, as the operator last wrote it.
    pub phase: String,
    /// The CRD's one-of condition object; `{}` = none.
    pub condition: serde_json::Value,
    /// Once, Daily or Weekly.
    #[schema(value_type = String)]
    pub claim_frequency: ClaimFrequency,
    /// Event-wide cap on successful claims; null = none.
    pub max_claims: Option<i32>,
    /// The event's rewards.
    pub rewards: Vec<EventReward>,
}

/// `{"events": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventList {
    /// Events, soonest start first.
    pub events: Vec<EventView>,
}

/// `{"event": {...}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventAnswer {
    /// The event.
    pub event: EventView,
}

/// What GET /events may add to the scheduled and active events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventInclusion {
    /// Also events whose window has closed.
    Ended,
}

/// Query of GET /events.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// `ended` adds events whose window has closed.
    // inline: a `$ref` from query parameters is not registered as a component
    #[param(inline)]
    pub include: Option<EventInclusion>,
}

/// Events whose claims have not closed (all with `?include=ended`); deleted
/// events are never shown, nor, to users, events before their `announceAt`.
/// Any signed-in role.
#[utoipa::path(get, path = "/events", tag = "events", params(EventsQuery),
    responses(
        (status = 200, description = "the events", body = EventList, links(
            ("GetEvent" = (operation_id = "get_event", parameters(("eventId" = "$response.body#/events/0/id")))),
            ("ListEventRewards" = (operation_id = "list_event_rewards",
                parameters(("eventId" = "$response.body#/events/0/id")))),
            ("ClaimReward" = (operation_id = "claim_reward",
                parameters(("rewardId" = "$response.body#/events/0/rewards/0/id")))),
        )),
        BadRequest, Unauthenticated, Unavailable),
    security(("bearer" = [])))]
pub async fn list_events(
    who: Authorized<AnyRole>,
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
) -> Result<axum::Json<EventList>> {
    let include_ended = query.include == Some(EventInclusion::Ended);
    let events = load_events(&state.db, None, include_ended, sees_unannounced(who.role)).await?;
    Ok(axum::Json(EventList { events }))
}

/// One event, ended or not; 404 when unknown or deleted, and to users before
/// its `announceAt`. Any signed-in role.
#[utoipa::path(get, path = "/events/{eventId}", tag = "events",
    params(("eventId" = Uuid, Path, description = "Event id")),
    responses(
        (status = 200, description = "the event", body = EventAnswer, links(
            ("ClaimReward" = (operation_id = "claim_reward",
                parameters(("rewardId" = "$response.body#/event/rewards/0/id")))),
        )),
        BadRequest, Unauthenticated,
        (status = 404, description = "EVENT_NOT_FOUND", body = Problem, content_type = PROBLEM_JSON), Unavailable),
    security(("bearer" = [])))]
pub async fn get_event(
    who: Authorized<AnyRole>,
    State(state): State<AppState>,
    Path(event_id): Path<Uuid>,
) -> Result<axum::Json<EventAnswer>> {
    let event = load_events(&state.db, Some(event_id), true, sees_unannounced(who.role))
        .await?
        .into_iter()
        .next()
        .ok_or(Error::EventNotFound)?;
    Ok(axum::Json(EventAnswer { event }))
}

/// Staff see events before their `announceAt` (to check them); players do not.
fn sees_unannounced(role: Role) -> bool {
    role != Role::User
}

/// Live events (one when `only` is set) with their live rewards.
async fn load_events(
    db: &PgPool,
    only: Option<Uuid>,
    include_ended: bool,
    include_unannounced: bool,
) -> Result<Vec<EventView>> {
    let rows = sqlx::query!(
        r#"
        select id, namespace, name, display_name, description, starts_at, ends_at, time_zone,
               phase::text as "phase!", condition,
               claim_frequency as "claim_frequency: ClaimFrequency", max_claims, announce_at,
               coalesce(claim_until, ends_at) as "claims_close_at!",
               to_char(reset_at, 'HH24:MI') as "reset_at!"
        from events
        where deleted_at is null
          and ($1::uuid is null or id = $1)
          and ($2 or coalesce(claim_until, ends_at) > now())
          and ($3 or announce_at is null or announce_at <= now())
        order by starts_at, namespace, name
        "#,
        only,
        include_ended,
        include_unannounced,
    )
    .fetch_all(db)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut rewards: HashMap<Uuid, Vec<EventReward>> = HashMap::new();
    for reward in sqlx::query!(
        r#"
        select id, event_id, name, display_name, quantity, claimed, per_user_limit
        from rewards
        where event_id = any($1) and deleted_at is null
        order by name
        "#,
        &ids,
    )
    .fetch_all(db)
    .await?
    {
        rewards.entry(reward.event_id).or_default().push(EventReward {
            id: reward.id,
            name: reward.name,
            display_name: reward.display_name,
            quantity: reward.quantity,
            claimed: reward.claimed,
            remaining: remaining(reward.quantity, reward.claimed),
            per_user_limit: reward.per_user_limit,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| EventView {
            rewards: rewards.remove(&row.id).unwrap_or_default(),
            id: row.id,
            namespace: row.namespace,
            name: row.name,
            display_name: row.display_name,
            description: row.description,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            announce_at: row.announce_at,
            claims_close_at: row.claims_close_at,
            reset_at: row.reset_at,
            time_zone: row.time_zone,
            phase: row.phase,
            condition: row.condition,
            claim_frequency: row.claim_frequency,
            max_claims: row.max_claims,
        })
        .collect())
}

/// Stock left: never negative, even after `quantity` was lowered in YAML
/// below what was already claimed; `None` for unlimited stock.
pub fn remaining(quantity: Option<i32>, claimed: i32) -> Option<i32> {
    quantity.map(|quantity| (quantity - claimed).max(0))
}
