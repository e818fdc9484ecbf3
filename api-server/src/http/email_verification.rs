//! POST /auth/verify-email and /auth/verify-email/resend: redeeming the
//! link of a verification mail, and asking for a new one (DESIGN.md,
//! "Accounts").

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState, Error, Result,
    auth::{AnyRole, Authorized},
    client_address::ClientAddress,
    error::Problem,
    error_responses::{BodyRefused, PROBLEM_JSON, RateLimited, Unauthenticated, Unavailable},
    extract::Json,
};
use crate::{
    account::verification::{self, ResendOutcome},
    rate_limit,
};

/// `/auth/verify-email`, `/auth/verify-email/resend`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification_email))
}

/// The token from a mailed link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The `token` query parameter of the link in the mail.
    #[schema(example = "Vq3Jd3m1Zq9xWm0m3b3fOq2r6JtqQ6z7lJp8m3u7c2E", max_length = 256)]
    pub token: String,
}

/// A verified address.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmailVerifiedResponse {
    /// Human-readable outcome.
    pub message: &'static str,
    /// Always true.
    pub email_verified: bool,
}

/// A human-readable outcome (mail sent in the background, password reset).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    /// Human-readable outcome.
    pub message: &'static str,
}

const TOKEN_REFUSED: &str = "TOKEN_INVALID, TOKEN_USED (redeemed, or replaced by a newer mail) or TOKEN_EXPIRED (24 h); \
                             VALIDATION_FAILED or MALFORMED_JSON for a body of the wrong shape";

/// Marks the account's address verified, redeeming the token of a
/// verification mail (`{PUBLIC_URL}/auth/verify-email?token=TOKEN`).
#[utoipa::path(
    post,
    path = "/auth/verify-email",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "the address is verified", body = EmailVerifiedResponse),
        (status = 400, description = TOKEN_REFUSED, body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(request): Json<TokenRequest>,
) -> Result<Json<EmailVerifiedResponse>> {
    rate_limit::count_attempt(
        &state.db,
        state.config.rate_limit_login_per_minute,
        &[client.bucket("redeem")],
    )
    .await?;
    verification::verify(&state.db, &request.token).await??;
    Ok(Json(EmailVerifiedResponse {
        message: "Verified your email address.",
        email_verified: true,
    }))
}

/// Mails the caller a new verification link; earlier links stop working.
#[utoipa::path(
    post,
    path = "/auth/verify-email/resend",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "a new verification mail is on its way", body = MessageResponse),
        Unauthenticated,
        (status = 409, description = "EMAIL_ALREADY_VERIFIED", body = Problem, content_type = PROBLEM_JSON),
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id))]
pub async fn resend_verification_email(
    State(state): State<AppState>,
    caller: Authorized<AnyRole>,
    client: ClientAddress,
) -> Result<(StatusCode, Json<MessageResponse>)> {
    rate_limit::count_attempt(
        &state.db,
        state.config.rate_limit_mail_per_minute,
        &[client.bucket("mail"), format!("mail:user:{}", caller.user_id)],
    )
    .await?;
    match verification::resend(&state.db, &state.mail, caller.user_id).await? {
        ResendOutcome::Queued => Ok((
            StatusCode::ACCEPTED,
            Json(MessageResponse {
                message: "A new verification mail is on its way.",
            }),
        )),
        ResendOutcome::AlreadyVerified => Err(Error::EmailAlreadyVerified),
        ResendOutcome::AccountGone => Err(Error::Unauthorized("the account of this token no longer exists")),
    }
}
