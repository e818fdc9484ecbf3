//! POST /auth/signup: new USER accounts, with an optional referral; the
//! verification mail is queued with the account (DESIGN.md, "Accounts").

use axum::{extract::State, http::StatusCode};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    client_address::ClientAddress,
    error::{Problem, on_constraint},
    error_responses::{BodyRefused, PROBLEM_JSON, RateLimited, Unavailable},
    extract::Json,
};
use crate::{
    account::{email::Email, password, verification},
    invite_code, rate_limit,
    role::Role,
};

/// `/auth/signup`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_up))
}

/// Signup input (the seed's fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupRequest {
    /// Unique, case-insensitively; stored trimmed and lower-cased.
    #[schema(example = "test@example.com", format = Email)]
    pub email: String,
    /// 8 to 128 characters.
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
    /// A real date in the past, `YYYY-MM-DD`.
    #[schema(example = "1995-01-01")]
    pub birth_date: NaiveDate,
    /// Another user's invite code: records who invited this user.
    pub invite_code: Option<String>,
}

/// The created account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    /// The new user's id.
    pub id: Uuid,
    /// The normalised email.
    pub email: String,
    /// Always USER: the first ADMIN comes from bootstrap, never signup.
    pub role: Role,
}

/// Earliest accepted birth date; earlier ones are typos.
const EARLIEST_BIRTH_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// Creates a USER account and mails it a verification link
/// (`{PUBLIC_URL}/auth/verify-email?token=...`, good for 24 hours).
#[utoipa::path(
    post,
    path = "/auth/signup",
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "account created", body = SignupResponse, links(
            ("ChangeUserRole" = (operation_id = "change_user_role", parameters(("userId" = "$response.body#/id")))),
            ("ListUserClaims" = (operation_id = "list_user_claims", parameters(("userId" = "$response.body#/id")))),
        )),
        (status = 400, description = "VALIDATION_FAILED (email, password, birth date), MALFORMED_JSON, UNKNOWN_INVITE_CODE",
            body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "EMAIL_TAKEN", body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn sign_up(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(request): Json<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>)> {
    // PostgreSQL text cannot hold NUL: refuse it before the rate-limit
    // bucket or the invite-code lookup would fail on it as a 500.
    if request.email.contains('\0') {
        return Err(Error::Validation(
            "email must not contain NUL (U+0000)".to_owned(),
        ));
    }
    rate_limit::count_attempt(
        &state.db,
        state.config.rate_limit_signup_per_minute,
        &[
            client.bucket("signup"),
            rate_limit::email_bucket("signup", &request.email),
        ],
    )
    .await?;
    let email = Email::parse(&request.email).map_err(|e| Error::Validation(e.to_string()))?;
    password::check_length(&request.password).map_err(|e| Error::Validation(e.to_string()))?;
    let today = Utc::now().date_naive();
    if request.birth_date >= today || request.birth_date < EARLIEST_BIRTH_DATE {
        return Err(Error::Validation(format!(
            "birthDate must be a past date on or after {EARLIEST_BIRTH_DATE}"
        )));
    }
    let inviter_id = match request.invite_code.as_deref().map(invite_code::normalise) {
        None => None,
        Some(code) if code.is_empty() => None,
        // No invite code holds NUL, and PostgreSQL text cannot carry it.
        Some(code) if code.contains('\0') => return Err(Error::UnknownInviteCode),
        Some(code) => Some(
            sqlx::query_scalar!("select id from users where invite_code = $1", code)
                .fetch_optional(&state.db)
                .await?
                .ok_or(Error::UnknownInviteCode)?,
        ),
    };
    let password_hash = password::hash(request.password).await?;
    // A generated invite code can collide with an existing one: retry with
    // a new code. Any other conflict is a taken email.
    for _ in 0..5 {
        // One transaction: the user, the referral and the verification mail
        // exist together or not at all. The mail is only queued here; the
        // delivery worker sends it, so the mail server never slows a signup.
        let mut tx = state.db.begin().await?;
        let created = sqlx::query!(
            r#"with new_user as (
                   insert into users (email, password_hash, birth_date, invite_code)
                   values ($1, $2, $3, $4)
                   returning id, email, role
               ), referral as (
                   insert into referrals (inviter_id, invitee_id)
                   select $5::uuid, id from new_user where $5::uuid is not null
               )
               select id, email, role as "role: Role" from new_user"#,
            email.as_ref(),
            password_hash,
            request.birth_date,
            invite_code::generate(),
            inviter_id,
        )
        .fetch_one(&mut *tx)
        .await;
        match created {
            Ok(user) => {
                verification::queue_mail(&mut tx, &state.mail, user.id, &user.email).await?;
                tx.commit().await?;
                state.mail.wake();
                tracing::info!(user_id = %user.id, referred = inviter_id.is_some(), "user signed up");
                let body = SignupResponse {
                    id: user.id,
                    email: user.email,
                    role: user.role,
                };
                return Ok((StatusCode::CREATED, Json(body)));
            }
            Err(sqlx::Error::Database(db_error))
                if db_error.constraint() == Some("users_invite_code_key") =>
            {
                continue;
            }
            Err(error) => return Err(on_constraint("users_email_key", Error::EmailTaken)(error)),
        }
    }
    Err(Error::Internal(anyhow::anyhow!(
        "no free invite code after 5 attempts"
    )))
}
