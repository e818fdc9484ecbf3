//! The claim history: GET /claims/me, /claims, /claims/user/{userId} and
//! /claims/filter, keyset-paginated, newest first (DESIGN.md, "REST API").

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized, Staff},
    error::Problem,
    error_responses::{BadRequest, Forbidden, PROBLEM_JSON, Unauthenticated, Unavailable},
    extract::{Path, Query},
};
use crate::claim::{
    cursor::{Cursor, page_limit},
    history::{ClaimFilter, ClaimRecord, ClaimStatus, list_claims},
};

/// The claim history routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_claims))
        .routes(routes!(list_all_claims))
        .routes(routes!(list_user_claims))
        .routes(routes!(filter_claims))
}

/// `limit` and `cursor` of every claim listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
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
    // inline: a `$ref` from query parameters is not registered as a component
    #[param(inline)]
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
    #[param(minimum = 1, maximum = 100)]
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
    responses((status = 200, description = "a page of the caller's claims", body = ClaimList), BadRequest,
        Unauthenticated, Unavailable),
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
    responses(
        (status = 200, description = "a page of claims", body = ClaimList, links(
            ("ListUserClaims" = (operation_id = "list_user_claims",
                parameters(("userId" = "$response.body#/claims/0/userId")))),
            ("GetEvent" = (operation_id = "get_event", parameters(("eventId" = "$response.body#/claims/0/eventId")))),
        )),
        BadRequest, Unauthenticated,
        Forbidden, Unavailable),
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
    responses((status = 200, description = "a page of the user's claims", body = ClaimList), BadRequest,
        Unauthenticated, Forbidden,
        (status = 404, description = "NOT_FOUND: no such user", body = Problem, content_type = PROBLEM_JSON),
        Unavailable),
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
    responses((status = 200, description = "a page of matching claims", body = ClaimList), BadRequest,
        Unauthenticated, Forbidden, Unavailable),
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
