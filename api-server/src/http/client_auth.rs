//! The game-server extractor: a bearer client token from `POST
//! /oauth/token`. User tokens are refused here (and client tokens by the
//! user extractor in `auth.rs`): see `ingest::client_token`. Whether the
//! client is still allowed (not suspended, not deleted) is checked against
//! its row by every statement that acts for it.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use uuid::Uuid;

use super::{AppState, error::Error};

/// The calling game server, authenticated by its client token.
#[derive(Debug, Clone)]
pub struct IngestCaller {
    /// The `ingest_clients` row.
    pub client_id: Uuid,
    /// `<namespace>/<name>`, for logs.
    pub name: String,
}

impl FromRequestParts<AppState> for IngestCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| {
                text.strip_prefix("Bearer ")
                    .or_else(|| text.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty());
        let Some(token) = token else {
            tracing::info!("signals rejected: no bearer client token");
            return Err(Error::Unauthorized(
                "a client token is required (Authorization: Bearer ..., from POST /oauth/token)",
            ));
        };
        let claims = state.client_tokens.verify(token).map_err(|reason| {
            tracing::info!(%reason, "signals rejected: invalid client token");
            Error::Unauthorized("the client token is invalid or expired")
        })?;
        Ok(Self {
            client_id: claims.client_id,
            name: claims.sub,
        })
    }
}
