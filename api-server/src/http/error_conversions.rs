//! How the domain modules' errors and axum's extractor rejections become
//! the API's [`Error`]; the status and code of each stay in `error.rs`.

use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::StatusCode,
};

use super::error::Error;
use crate::account::{AccountError, one_time_token::TokenRefusal};

impl From<crate::rate_limit::RateLimitError> for Error {
    fn from(error: crate::rate_limit::RateLimitError) -> Self {
        match error {
            crate::rate_limit::RateLimitError::Limited { retry_after_seconds } => {
                Error::RateLimited { retry_after_seconds }
            }
            crate::rate_limit::RateLimitError::Database(error) => error.into(),
        }
    }
}

impl From<TokenRefusal> for Error {
    fn from(refusal: TokenRefusal) -> Self {
        Error::Token(refusal)
    }
}

impl From<AccountError> for Error {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Database(error) => error.into(),
            AccountError::Hashing(error) => Error::Internal(error),
        }
    }
}

impl From<crate::profile_fields::InvalidField> for Error {
    fn from(invalid: crate::profile_fields::InvalidField) -> Self {
        Error::Validation(invalid.0)
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType,
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            status if status.is_server_error() => Error::Internal(anyhow::anyhow!(rejection.body_text())),
            // Valid JSON of the wrong shape: a missing field, a wrong type, an
            // unknown field (every request type denies unknown fields).
            _ if matches!(rejection, JsonRejection::JsonDataError(_)) => {
                Error::Validation(rejection.body_text())
            }
            _ => Error::MalformedJson(rejection.body_text()),
        }
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(inner) => Error::Validation(inner.body_text()),
            other => Error::Internal(anyhow::anyhow!(other.body_text())),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::Validation(rejection.body_text())
    }
}
