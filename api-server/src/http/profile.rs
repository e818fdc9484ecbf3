//! GET /auth/me, PATCH /auth/profile, GET /auth/invite-code: the caller's
//! own account.

use axum::{
    Router,
    extract::State,
    routing::{get, patch},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized},
    error::{Problem, on_constraint},
    extract::Json,
};
use crate::role::Role;

/// Longest nickname, in characters.
pub const MAX_NICKNAME_CHARS: usize = 30;
/// Longest bio, in characters.
pub const MAX_BIO_CHARS: usize = 500;
/// Longest profile image URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// `/auth/me`, `/auth/profile`, `/auth/invite-code`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/me", get(get_me))
        .route("/auth/profile", patch(update_profile))
        .route("/auth/invite-code", get(get_invite_code))
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// User id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
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
pub struct ProfileUpdate {
    /// Trimmed; not blank; at most 30 characters; unique (409).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "developer")]
    pub nickname: Option<Option<String>>,
    /// At most 500 characters; blank clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "I write backends.")]
    pub bio: Option<Option<String>>,
    /// An absolute http(s) URL.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "https://example.com/me.png")]
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
        (status = 401, description = "no or invalid access token", body = Problem),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn get_me(State(state): State<AppState>, caller: Authorized<AnyRole>) -> Result<Json<MeResponse>> {
    let user = sqlx::query_as!(
        Me,
        r#"select id, email, role as "role: Role", birth_date, nickname, bio, profile_image_url,
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
        (status = 400, description = "blank or too long nickname, too long bio, invalid URL, empty update", body = Problem),
        (status = 401, description = "no or invalid access token", body = Problem),
        (status = 409, description = "NICKNAME_TAKEN", body = Problem),
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
        (status = 401, description = "no or invalid access token", body = Problem),
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

fn check_nickname(text: &str) -> Result<String> {
    let nickname = text.trim();
    if nickname.is_empty() {
        return Err(Error::Validation("nickname must not be blank".into()));
    }
    if nickname.chars().count() > MAX_NICKNAME_CHARS {
        return Err(Error::Validation(format!(
            "nickname must be at most {MAX_NICKNAME_CHARS} characters"
        )));
    }
    if nickname.chars().any(char::is_control) {
        return Err(Error::Validation(
            "nickname must not contain control characters".into(),
        ));
    }
    Ok(nickname.to_owned())
}

/// A blank bio clears it (`None`).
fn check_bio(text: &str) -> Result<Option<String>> {
    let bio = text.trim();
    if bio.chars().count() > MAX_BIO_CHARS {
        return Err(Error::Validation(format!(
            "bio must be at most {MAX_BIO_CHARS} characters"
        )));
    }
    Ok((!bio.is_empty()).then(|| bio.to_owned()))
}

fn check_image_url(text: &str) -> Result<String> {
    let text = text.trim();
    let invalid = || Error::Validation("profileImageUrl must be an absolute http or https URL".into());
    if text.len() > MAX_URL_LEN {
        return Err(Error::Validation(format!(
            "profileImageUrl must be at most {MAX_URL_LEN} bytes"
        )));
    }
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::{check_bio, check_image_url, check_nickname};

    #[test]
    fn nicknames_are_trimmed_and_must_not_be_blank() {
        assert_eq!(check_nickname("  neo  ").ok().as_deref(), Some("neo"));
        assert!(check_nickname("   ").is_err());
        assert!(check_nickname(&"가".repeat(31)).is_err());
        assert!(check_nickname("a\u{7}b").is_err());
    }

    #[test]
    fn a_blank_bio_clears_it_and_a_long_one_is_refused() {
        assert_eq!(check_bio("  ").ok(), Some(None));
        assert!(check_bio(&"x".repeat(501)).is_err());
    }

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!(check_image_url("https://cdn.example.com/a.png").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.com/a",
            "/relative.png",
            "not a url",
            "https://",
        ] {
            assert!(check_image_url(bad).is_err(), "{bad}");
        }
    }
}
