//! POST /auth/login, /auth/refresh and /auth/logout: access tokens and
//! rotating refresh tokens (DESIGN.md, "REST API" and "Security baseline").

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    client_address::ClientAddress,
    error::Problem,
    error_responses::{BadRequest, BodyRefused, PROBLEM_JSON, RateLimited, Unavailable},
    extract::{Json, OptionalJson},
    refresh_cookie,
};
use crate::{
    account::{
        activity, login_limit, password,
        session::{self, IssuedRefreshToken, Rotation},
    },
    rate_limit,
    role::Role,
};

/// `/auth/login`, `/auth/refresh`, `/auth/logout`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(log_in))
        .routes(routes!(refresh_session))
        .routes(routes!(log_out))
}

/// Login input.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email (any case).
    #[schema(example = "test@example.com")]
    pub email: String,
    /// The account's password.
    #[schema(example = "correct horse battery")]
    pub password: String,
}

/// A refresh token in the body; without a body, the cookie is used.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// The tokens of a session (the seed's login answer, plus two hints).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`, valid for `expiresIn` seconds.
    pub access_token: String,
    /// Opaque, single-use: exchange it at /auth/refresh.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

const BAD_PAIR: &str = "invalid email or password";

/// Exchanges email and password for tokens and records the login.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "tokens; the refresh token is also set as an HttpOnly cookie", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "the refresh token as an HttpOnly cookie"))),
        BadRequest,
        (status = 401, description = "UNAUTHORIZED: invalid email or password", body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn log_in(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(request): Json<LoginRequest>,
) -> Result<Response> {
    let email = request.email.trim().to_lowercase();
    // PostgreSQL text cannot hold NUL, so neither the rate-limit bucket nor
    // the lookup could take this email; no account has one (Email::parse).
    if email.contains('\0') {
        return Err(Error::Unauthorized(BAD_PAIR));
    }
    // Failures count, not attempts, and never against the account from
    // every address at once: see account::login_limit.
    let attempt = login_limit::admit(
        &state.db,
        state.config.rate_limit_login_per_minute,
        &client.bucket("login"),
        &rate_limit::email_bucket("login", &email),
    )
    .await?;
    if !attempt.delay.is_zero() {
        tokio::time::sleep(attempt.delay).await;
    }
    // No account has a password over the maximum (signup and bootstrap
    // enforce it), so do not spend a hash on one.
    if request.password.chars().count() > password::MAX_PASSWORD_CHARS {
        return Err(Error::Unauthorized(BAD_PAIR));
    }
    let account = sqlx::query!(
        r#"select id, password_hash, role as "role: Role" from users where lower(email) = $1"#,
        email
    )
    .fetch_optional(&state.db)
    .await?;
    let stored_hash = account.as_ref().map(|account| account.password_hash.clone());
    let verified = password::verify(request.password, stored_hash).await?;
    let Some(account) = account.filter(|_| verified) else {
        tracing::info!("login refused: unknown email or wrong password");
        return Err(Error::Unauthorized(BAD_PAIR));
    };
    attempt.succeeded(&state.db).await;
    let mut tx = state.db.begin().await?;
    sqlx::query!("insert into user_logins (user_id) values ($1)", account.id)
        .execute(&mut *tx)
        .await?;
    let refresh = session::start(&mut tx, account.id, state.config.refresh_token_ttl_seconds).await?;
    tx.commit().await?;
    tracing::info!(user_id = %account.id, "logged in");
    token_response(&state, account.id, account.role, refresh)
}

/// Exchanges a refresh token (body or cookie) for a new pair. Presenting a
/// token that was already exchanged revokes its whole family. The first
/// refresh of a day records a day of use (what `loginStreak` and
/// `loginDays` count).
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "optional: the `refresh_token` cookie is used without a body"),
    responses(
        (status = 200, description = "a new pair; the old refresh token is spent", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "the new refresh token as an HttpOnly cookie"))),
        BadRequest,
        (status = 401, description = "UNAUTHORIZED: no, unknown, expired, revoked or reused refresh token",
            body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn refresh_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Response> {
    let presented = presented_token(body, &headers)?;
    let config = &state.config;
    let rotation = session::rotate(
        &state.db,
        &presented,
        config.refresh_token_ttl_seconds,
        config.refresh_reuse_grace_seconds,
    )
    .await?;
    match rotation {
        Rotation::Rotated {
            user_id,
            role,
            refresh,
        } => {
            // A refresh is a day of use too (account::activity); losing the
            // record must not cost the client its new tokens.
            if let Err(error) = activity::record_refresh(&state.db, user_id).await {
                tracing::warn!(%error, %user_id, "could not record the day of use of a refresh");
            }
            token_response(&state, user_id, role, refresh)
        }
        refused => {
            tracing::info!(outcome = ?refused, "refresh refused");
            Err(Error::Unauthorized(
                "the refresh token is invalid, expired or revoked; log in again",
            ))
        }
    }
}

/// Ends the session: the refresh token's family is revoked and the cookie
/// cleared. Access tokens already issued live out their 15 minutes.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "optional: the `refresh_token` cookie is used without a body"),
    responses(
        (status = 204, description = "session revoked; the cookie is cleared",
            headers(("Set-Cookie" = String, description = "clears the refresh token cookie"))),
        BadRequest,
        (status = 401, description = "UNAUTHORIZED: no or unknown refresh token", body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn log_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Response> {
    let presented = presented_token(body, &headers)?;
    if !session::revoke(&state.db, &presented).await? {
        return Err(Error::Unauthorized("unknown refresh token"));
    }
    let clear = AppendHeaders([(header::SET_COOKIE, refresh_cookie::clear())]);
    Ok((StatusCode::NO_CONTENT, clear).into_response())
}

fn presented_token(body: Option<RefreshRequest>, headers: &HeaderMap) -> Result<String> {
    body.map(|body| body.refresh_token)
        .or_else(|| refresh_cookie::read(headers))
        .filter(|token| !token.trim().is_empty())
        .ok_or(Error::Unauthorized(
            "a refresh token is required, in the body or the refresh_token cookie",
        ))
}

/// The 200 answer of a new session: the pair in the body, the refresh
/// token also as a cookie.
pub(super) fn token_response(
    state: &AppState,
    user_id: Uuid,
    role: Role,
    refresh: IssuedRefreshToken,
) -> Result<Response> {
    let access_token = state
        .jwt
        .issue(user_id, role)
        .map_err(|e| Error::Internal(e.into()))?;
    let cookie = AppendHeaders([(
        header::SET_COOKIE,
        refresh_cookie::set(&refresh.token, refresh.ttl_seconds),
    )]);
    let body = TokenResponse {
        access_token,
        refresh_token: refresh.token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_seconds(),
    };
    Ok((StatusCode::OK, cookie, Json(body)).into_response())
}
