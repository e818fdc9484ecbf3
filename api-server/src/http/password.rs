//! POST /auth/password/forgot, /reset and /change: recovering a forgotten
//! password by mail, and changing a known one (DESIGN.md, "Accounts").

use axum::{extract::State, http::StatusCode, response::Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized},
    client_address::ClientAddress,
    email_verification::MessageResponse,
    error::Problem,
    error_responses::{BodyRefused, PROBLEM_JSON, RateLimited, Unauthenticated, Unavailable},
    extract::Json,
    session::{TokenResponse, token_response},
};
use crate::{
    account::{
        email::Email,
        login_limit, password,
        recovery::{self, ChangeOutcome},
    },
    rate_limit,
};

/// `/auth/password/forgot`, `/auth/password/reset`, `/auth/password/change`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(change_password))
}

/// Whose password was forgotten.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    /// The account's email (any case).
    #[schema(example = "test@example.com", format = Email)]
    pub email: String,
}

/// A reset token and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The `token` query parameter of the link in the reset mail.
    #[schema(example = "Vq3Jd3m1Zq9xWm0m3b3fOq2r6JtqQ6z7lJp8m3u7c2E", max_length = 256)]
    pub token: String,
    /// 8 to 128 characters.
    #[schema(example = "a brand new horse", min_length = 8, max_length = 128)]
    pub password: String,
}

/// The current password and the new one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    #[schema(example = "correct horse battery")]
    pub current_password: String,
    /// 8 to 128 characters.
    #[schema(example = "a brand new horse", min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Mails a reset link (`{PUBLIC_URL}/auth/password/reset?token=TOKEN`, good
/// for 30 minutes) if the address has an account. The answer is the same
/// either way, so it tells nobody whether an account exists.
#[utoipa::path(
    post,
    path = "/auth/password/forgot",
    tag = "auth",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "if the address has an account, a reset mail is on its way", body = MessageResponse),
        (status = 400, description = "VALIDATION_FAILED (not an email address) or MALFORMED_JSON",
            body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn forgot_password(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(request): Json<ForgotPasswordRequest>,
) -> Result<(StatusCode, Json<MessageResponse>)> {
    let email = Email::parse(&request.email).map_err(|e| Error::Validation(e.to_string()))?;
    // Counted by the address as typed, known or not: the limit itself must
    // not tell accounts apart.
    rate_limit::count_attempt(
        &state.db,
        state.config.rate_limit_mail_per_minute,
        &[
            client.bucket("mail"),
            rate_limit::email_bucket("mail", email.as_ref()),
        ],
    )
    .await?;
    recovery::forgot(&state.db, &state.mail, email.as_ref()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(MessageResponse {
            message: "If an account has this address, a mail with a reset link is on its way.",
        }),
    ))
}

/// Sets a new password with the token of a reset mail, and signs the
/// account out everywhere (every refresh token is revoked).
#[utoipa::path(
    post,
    path = "/auth/password/reset",
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "password changed; every session of the account has ended", body = MessageResponse),
        (status = 400, description = "TOKEN_INVALID, TOKEN_USED or TOKEN_EXPIRED (30 min); VALIDATION_FAILED (password length) or MALFORMED_JSON",
            body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(request): Json<ResetPasswordRequest>,
) -> Result<Json<MessageResponse>> {
    rate_limit::count_attempt(
        &state.db,
        state.config.rate_limit_login_per_minute,
        &[client.bucket("redeem")],
    )
    .await?;
    password::check_length(&request.password).map_err(|e| Error::Validation(e.to_string()))?;
    let new_hash = password::hash(request.password).await?;
    recovery::reset(&state.db, &request.token, &new_hash).await??;
    Ok(Json(MessageResponse {
        message: "Changed your password; log in with it.",
    }))
}

/// Changes the caller's password. Every session of the account ends; this
/// client gets a new pair of tokens to go on with.
#[utoipa::path(
    post,
    path = "/auth/password/change",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "password changed; a new session replaces every old one", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "the new refresh token as an HttpOnly cookie"))),
        (status = 400, description = "WRONG_PASSWORD, VALIDATION_FAILED (new password length) or MALFORMED_JSON",
            body = Problem, content_type = PROBLEM_JSON),
        Unauthenticated,
        BodyRefused,
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Authorized<AnyRole>,
    client: ClientAddress,
    Json(request): Json<ChangePasswordRequest>,
) -> Result<Response> {
    password::check_length(&request.new_password).map_err(|e| Error::Validation(e.to_string()))?;
    // A stolen access token must not become a password oracle: wrong
    // current passwords count as login failures of this account.
    let attempt = login_limit::admit(
        &state.db,
        state.config.rate_limit_login_per_minute,
        &client.bucket("login"),
        &format!("login:user:{}", caller.user_id),
    )
    .await?;
    if request.current_password.chars().count() > password::MAX_PASSWORD_CHARS {
        return Err(Error::WrongPassword);
    }
    let outcome = recovery::change(
        &state.db,
        caller.user_id,
        request.current_password,
        request.new_password,
        state.config.refresh_token_ttl_seconds,
    )
    .await?;
    match outcome {
        ChangeOutcome::Changed { role, refresh } => {
            attempt.succeeded(&state.db).await;
            token_response(&state, caller.user_id, role, refresh)
        }
        ChangeOutcome::WrongPassword => Err(Error::WrongPassword),
        ChangeOutcome::AccountGone => Err(Error::Unauthorized("the account of this token no longer exists")),
    }
}
