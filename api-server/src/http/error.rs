//! The API's one error type and its one HTTP mapping: RFC 9457
//! `application/problem+json` bodies with a stable machine `code`
//! (DESIGN.md, "REST API").

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::request_id::current_request_id;
use crate::{
    account::one_time_token::TokenRefusal,
    claim::ClaimRefusal,
    ingest::{self, SignalRejection},
};

/// Handlers return this; `?` converts database and other errors into an
/// opaque 500.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that parses but breaks a rule (400 VALIDATION_FAILED).
    #[error("{0}")]
    Validation(String),
    /// A body that is not JSON or not the expected shape (400 MALFORMED_JSON).
    #[error("{0}")]
    MalformedJson(String),
    /// A body without `Content-Type: application/json` (415).
    #[error("expected a request body with Content-Type: application/json")]
    UnsupportedMediaType,
    /// A body over the configured limit (413).
    #[error("the request body is larger than the server accepts")]
    PayloadTooLarge,
    /// Missing, malformed, expired or revoked credentials (401). The text is
    /// what the client sees; the precise reason is logged where it is known.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but the role or rule forbids it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The addressed thing does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method (405).
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    /// Signup with an email that already has an account (409).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Profile update with a nickname someone else has (409).
    #[error("this nickname is already taken")]
    NicknameTaken,
    /// Role change to the role the user already has (409).
    #[error("the user already has role {0}")]
    RoleUnchanged(crate::role::Role),
    /// A role change that would leave no ADMIN (409).
    #[error("this change would leave no ADMIN")]
    LastAdmin,
    /// A mailed token that cannot be redeemed (400 TOKEN_INVALID,
    /// TOKEN_USED, TOKEN_EXPIRED).
    #[error("{0}")]
    Token(TokenRefusal),
    /// A verification resend for a verified address (409).
    #[error("the email address is verified already")]
    EmailAlreadyVerified,
    /// A password change with a wrong current password (400).
    #[error("the current password is wrong")]
    WrongPassword,
    /// Signup with an invite code nobody has (400).
    #[error("no user has this invite code")]
    UnknownInviteCode,
    /// Too many attempts in the current window (429 with Retry-After).
    #[error("too many requests; retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after_seconds: u64,
    },
    /// A refused claim; its code and message come from the refusal.
    #[error("{}", .0.message())]
    Claim(ClaimRefusal),
    /// An event that does not exist or was deleted (404).
    #[error("no event with this id")]
    EventNotFound,
    /// Claim retries exhausted by contention; never a 500 (503).
    #[error("too much contention on this reward; retry shortly")]
    ClaimContention,
    /// The database cannot be reached (down, restarting, or every pooled
    /// connection busy past the acquire timeout): 503 with Retry-After, so
    /// clients and load balancers back off instead of paging anyone for a
    /// 500. The pool reconnects by itself once the database is back.
    #[error("the database is not reachable; retry shortly")]
    Unavailable,
    /// The request ran past REQUEST_TIMEOUT_SECONDS and was abandoned (503).
    #[error("the request took too long and was abandoned; retry shortly")]
    Timeout,
    /// A refused `POST /oauth/token`: answered with an RFC 6749 section 5.2
    /// JSON error (`invalid_client` 401, others 400), not a Problem.
    #[error("{0}")]
    OAuth(ingest::TokenRefusal),
    /// A signal batch over MAX_SIGNALS_PER_BATCH signals (413).
    #[error("a batch carries at most {} signals", ingest::MAX_SIGNALS_PER_BATCH)]
    TooManySignals,
    /// A signal batch with contract errors, listed per signal; nothing was
    /// recorded (422 SIGNALS_REJECTED).
    #[error("the batch was rejected and nothing was recorded: see `errors`")]
    SignalsRejected(Vec<SignalRejection>),
    /// A Sum counter would pass the int8 range; nothing was recorded (422).
    #[error("a Sum counter would overflow; nothing was recorded")]
    CounterOverflow,
    /// A database failure: logged with its chain, answered with an opaque 500.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Any other unexpected failure: logged, answered with an opaque 500.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// RFC 9457 problem details plus our `code` and `requestId` members.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// URI naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable machine code, e.g. `EMAIL_TAKEN`.
    pub code: String,
    /// Per-signal errors of a rejected signal batch (SIGNALS_REJECTED).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<SignalRejection>>,
    /// The request's `x-request-id`, to quote in bug reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Error {
    /// Status and stable code: the whole mapping, in one place.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::Validation(_) => (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            Error::MalformedJson(_) => (StatusCode::BAD_REQUEST, "MALFORMED_JSON"),
            Error::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
            Error::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            Error::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            Error::EmailTaken => (StatusCode::CONFLICT, "EMAIL_TAKEN"),
            Error::NicknameTaken => (StatusCode::CONFLICT, "NICKNAME_TAKEN"),
            Error::RoleUnchanged(_) => (StatusCode::CONFLICT, "ROLE_UNCHANGED"),
            Error::LastAdmin => (StatusCode::CONFLICT, "LAST_ADMIN"),
            Error::Token(TokenRefusal::Unknown) => (StatusCode::BAD_REQUEST, "TOKEN_INVALID"),
            Error::Token(TokenRefusal::Used) => (StatusCode::BAD_REQUEST, "TOKEN_USED"),
            Error::Token(TokenRefusal::Expired) => (StatusCode::BAD_REQUEST, "TOKEN_EXPIRED"),
            Error::EmailAlreadyVerified => (StatusCode::CONFLICT, "EMAIL_ALREADY_VERIFIED"),
            Error::WrongPassword => (StatusCode::BAD_REQUEST, "WRONG_PASSWORD"),
            Error::UnknownInviteCode => (StatusCode::BAD_REQUEST, "UNKNOWN_INVITE_CODE"),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            Error::Claim(refusal) => (claim_refusal_status(*refusal), refusal.code()),
            Error::EventNotFound => (StatusCode::NOT_FOUND, "EVENT_NOT_FOUND"),
            Error::ClaimContention => (StatusCode::SERVICE_UNAVAILABLE, "CLAIM_CONTENTION"),
            Error::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            Error::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "TIMEOUT"),
            Error::OAuth(ingest::TokenRefusal::InvalidClient) => (StatusCode::UNAUTHORIZED, "INVALID_CLIENT"),
            Error::OAuth(ingest::TokenRefusal::UnsupportedGrantType) => {
                (StatusCode::BAD_REQUEST, "UNSUPPORTED_GRANT_TYPE")
            }
            Error::OAuth(ingest::TokenRefusal::InvalidRequest(_)) => {
                (StatusCode::BAD_REQUEST, "INVALID_REQUEST")
            }
            Error::TooManySignals => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            Error::SignalsRejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "SIGNALS_REJECTED"),
            Error::CounterOverflow => (StatusCode::UNPROCESSABLE_ENTITY, "COUNTER_OVERFLOW"),
            Error::Database(_) | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        }
    }
}

/// The HTTP status of each claim refusal (its code and message are the
/// refusal's own, in `claim::refusal`).
fn claim_refusal_status(refusal: ClaimRefusal) -> StatusCode {
    match refusal {
        ClaimRefusal::RewardNotFound => StatusCode::NOT_FOUND,
        // the user's own progress falls short: like the event's condition, a 400
        ClaimRefusal::EventNotActive(_)
        | ClaimRefusal::RequirementsNotMet
        | ClaimRefusal::ConditionNotMet => StatusCode::BAD_REQUEST,
        ClaimRefusal::AlreadyClaimed { .. } | ClaimRefusal::SoldOut { .. } => StatusCode::CONFLICT,
        ClaimRefusal::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<ClaimRefusal> for Error {
    fn from(refusal: ClaimRefusal) -> Self {
        Error::Claim(refusal)
    }
}

impl Error {
    /// The `Retry-After` an answer carries: the rate-limit window, or a short
    /// pause while the database or a hot reward is unavailable.
    fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_seconds } => Some(*retry_after_seconds),
            Error::Unavailable | Error::ClaimContention | Error::Timeout => {
                Some(UNAVAILABLE_RETRY_AFTER_SECONDS)
            }
            _ => None,
        }
    }
}

/// `Retry-After` of a 503: long enough for a pool to reconnect, short
/// enough that a client does not wait long after the database is back.
const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 2;

impl From<sqlx::Error> for Error {
    /// Connection-level failures (the database is away) become 503
    /// UNAVAILABLE; everything else stays an opaque 500 that is logged.
    fn from(error: sqlx::Error) -> Self {
        if is_database_unavailable(&error) {
            tracing::warn!(%error, "database unavailable");
            Error::Unavailable
        } else if error.as_database_error().and_then(|db| db.code()).as_deref() == Some("22021") {
            // text PostgreSQL cannot store (a NUL character) that slipped
            // past the boundary checks: the client's input, not our fault
            Error::Validation("text must not contain NUL characters".to_owned())
        } else {
            Error::Database(error)
        }
    }
}

/// Whether `error` means the database cannot be reached rather than that a
/// statement failed: no connection within the pool's acquire timeout, a
/// broken socket, or the server refusing work (SQLSTATE class 08 connection
/// exceptions, 57P01-57P03 shutdown and start-up, 53300 too many clients).
pub fn is_database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            true
        }
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::OAuth(refusal) = &self {
            return super::oauth_token::refusal_response(self.status_and_code().0, refusal);
        }
        let (status, code) = self.status_and_code();
        let request_id = current_request_id();
        // Only the unexpected is opaque; a 503 such as UNAVAILABLE says what it is.
        let detail = if matches!(self, Error::Database(_) | Error::Internal(_)) {
            // The chain goes to the log, never to the client.
            tracing::error!(error = ?error_chain(&self), request_id = request_id.as_deref(), "request failed");
            "an unexpected error occurred; quote the request id when reporting it".to_owned()
        } else {
            tracing::debug!(%code, detail = %self, "request refused");
            self.to_string()
        };
        let problem = Problem {
            problem_type: format!(
                "https://liveops.dev/problems/{}",
                code.to_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: match self {
                Error::SignalsRejected(ref rejections) => Some(rejections.clone()),
                _ => None,
            },
            request_id,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, Error::Unauthorized(_)) {
            // RFC 6750 section 3: tell the client which scheme to use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(retry_after_seconds) = self.retry_after_seconds() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}

/// The error and its sources, joined with `: `, for the log.
fn error_chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Maps a unique violation of `constraint` to `error`, passing every other
/// database error through: `.map_err(on_constraint("users_email_key", Error::EmailTaken))`.
pub fn on_constraint(constraint: &'static str, error: Error) -> impl FnOnce(sqlx::Error) -> Error {
    move |db_error| match &db_error {
        sqlx::Error::Database(inner) if inner.constraint() == Some(constraint) => error,
        _ => Error::from(db_error),
    }
}
