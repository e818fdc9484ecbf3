//! GET /auth/me, PATCH /auth/profile, GET /auth/invite-code: the caller's
//! own account.

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized},
    error::{Problem, on_constraint},
    error_responses::{BadRequest, BodyRefused, PROBLEM_JSON, Unauthenticated, Unavailable},
    extract::Json,
};
use crate::{
    profile_fields::{check_bio, check_image_url, check_nickname},
    role::Role,
};

/// `/auth/me`, `/auth/profile`, `/auth/invite-code`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(update_profile))
        .routes(routes!(get_invite_code))
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// User id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Whether the owner opened the link of a verification (or reset) mail.
    pub email_verified: bool,
    /// Current role.
    pub role: Role,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Nickname, when set.
    pub nickname: Option<String>,
    /// Bio, when set.
    pub bio: Option<String>,
    /// Profile image URL, when set.
    pub profile_image_url: Option<String>,
    /// The code invitees type at signup.
    pub invite_code: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// The seed's wrapping: `{message, user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Human-readable outcome.
    pub message: &'static str,
    /// The account.
    pub user: Me,
}

/// Profile changes: an absent field is left alone, `null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct ProfileUpdate {
    /// Trimmed; not blank; at most 30 characters; unique (409).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "developer", max_length = 30)]
    pub nickname: Option<Option<String>>,
    /// At most 500 characters; blank clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "I write backends.", max_length = 500)]
    pub bio: Option<Option<String>>,
    /// An absolute http(s) URL.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "https://example.com/me.png", max_length = 2048)]
    pub profile_image_url: Option<Option<String>>,
}

/// A field that is present is `Some`, even when it is `null`.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The profile after the change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Nickname, when set.
    pub nickname: Option<String>,
    /// Bio, when set.
    pub bio: Option<String>,
    /// Profile image URL, when set.
    pub profile_image_url: Option<String>,
}

/// The seed's wrapping: `{message, user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    /// Human-readable outcome.
    pub message: &'static str,
    /// The profile.
    pub user: Profile,
}

/// The caller's invite code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteCodeResponse {
    /// What invitees type at signup.
    pub invite_code: String,
}

const ACCOUNT_GONE: &str = "the account of this token no longer exists";

/// The caller's account.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the caller's account", body = MeResponse),
        Unauthenticated,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn get_me(State(state): State<AppState>, caller: Authorized<AnyRole>) -> Result<Json<MeResponse>> {
    let user = sqlx::query_as!(
        Me,
        r#"select id, email, email_verified_at is not null as "email_verified!",
                  role as "role: Role", birth_date, nickname, bio, profile_image_url,
                  invite_code, created_at
           from users where id = $1"#,
        caller.user_id
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(Error::Unauthorized(ACCOUNT_GONE))?;
    Ok(Json(MeResponse {
        message: "Fetched your account.",
        user,
    }))
}

/// Changes nickname, bio or profile image URL.
#[utoipa::path(
    patch,
    path = "/auth/profile",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "the updated profile", body = ProfileResponse),
        BadRequest,
        Unauthenticated,
        (status = 409, description = "NICKNAME_TAKEN", body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: Authorized<AnyRole>,
    Json(update): Json<ProfileUpdate>,
) -> Result<Json<ProfileResponse>> {
    if update.nickname.is_none() && update.bio.is_none() && update.profile_image_url.is_none() {
        return Err(Error::Validation(
            "give at least one of nickname, bio, profileImageUrl".into(),
        ));
    }
    let nickname = update
        .nickname
        .map(|value| value.map(|text| check_nickname(&text)).transpose())
        .transpose()?;
    let bio = update
        .bio
        .map(|value| value.and_then(|text| check_bio(&text).transpose()).transpose())
        .transpose()?;
    let url = update
        .profile_image_url
        .map(|value| value.map(|text| check_image_url(&text)).transpose())
        .transpose()?;
    let user = sqlx::query_as!(
        Profile,
        r#"update users set
               nickname = case when $1 then $2 else nickname end,
               bio = case when $3 then $4 else bio end,
               profile_image_url = case when $5 then $6 else profile_image_url end,
               updated_at = now()
           where id = $7
           returning nickname, bio, profile_image_url"#,
        nickname.is_some(),
        nickname.flatten(),
        bio.is_some(),
        bio.flatten(),
        url.is_some(),
        url.flatten(),
        caller.user_id,
    )
    .fetch_optional(&state.db)
    .await
    .map_err(on_constraint("users_nickname_key", Error::NicknameTaken))?
    .ok_or(Error::Unauthorized(ACCOUNT_GONE))?;
    Ok(Json(ProfileResponse {
        message: "Updated your profile.",
        user,
    }))
}

/// The caller's invite code.
#[utoipa::path(
    get,
    path = "/auth/invite-code",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the caller's invite code", body = InviteCodeResponse),
        Unauthenticated,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn get_invite_code(
    State(state): State<AppState>,
    caller: Authorized<AnyRole>,
) -> Result<Json<InviteCodeResponse>> {
    let invite_code = sqlx::query_scalar!("select invite_code from users where id = $1", caller.user_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(Error::Unauthorized(ACCOUNT_GONE))?;
    Ok(Json(InviteCodeResponse { invite_code }))
}
