//! POST /oauth/token: game servers exchange their client credentials for a
//! short-lived client token (RFC 6749 section 4.4; DESIGN.md, "Challenges").

use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState, Error, Result,
    client_address::ClientAddress,
    error_responses::{RateLimited, Unavailable},
};
use crate::ingest::{TokenRefusal, client_credentials, token_limit};

/// `/oauth/token`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_client_token))
}

/// The form body (application/x-www-form-urlencoded); the client id and
/// secret go in HTTP Basic.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientTokenRequest {
    /// The only grant: `client_credentials`.
    pub grant_type: GrantType,
}

/// The grant types this endpoint knows (RFC 6749 section 4.4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// A client acting for itself.
    ClientCredentials,
}

/// A client token (RFC 6749 section 5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientTokenResponse {
    /// JWT for `Authorization: Bearer` on `POST /signals`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the token in seconds.
    pub expires_in: u64,
}

/// An RFC 6749 section 5.2 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client` or `unsupported_grant_type`.
    pub error: &'static str,
    /// What went wrong, for the developer.
    pub error_description: String,
}

/// Issues a client token to a game server that proves its identity with
/// HTTP Basic (`<namespace>/<name>`, also as `<namespace>%2F<name>`, and
/// the raw secret). Failed attempts are limited per client address.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "ingest",
    request_body(content = ClientTokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "a client token; never cached", body = ClientTokenResponse,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "invalid_request or unsupported_grant_type", body = OAuthError),
        (status = 401, description = "invalid_client: unknown, suspended or deleted client, or wrong secret",
            body = OAuthError, headers(("WWW-Authenticate" = String, description = "Basic"))),
        RateLimited,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all)]
pub async fn issue_client_token(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge
        } else {
            Error::OAuth(TokenRefusal::InvalidRequest("the body could not be read"))
        }
    })?;
    check_grant(&headers, &body)?;
    let attempt = token_limit::admit(
        &state.db,
        state.config.ingest.rate_limit_token_failures_per_minute,
        address.bucket("oauth-token"),
    )
    .await?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(Error::OAuth(TokenRefusal::InvalidClient))?;
    let (client, secret) = client_credentials::parse_basic(authorization).map_err(Error::OAuth)?;
    let Some(client_id) = client_credentials::authenticate(&state.db, &client, &secret).await? else {
        tracing::info!(%client, "token refused: unknown or disabled client, or wrong secret");
        return Err(Error::OAuth(TokenRefusal::InvalidClient));
    };
    attempt.succeeded(&state.db).await;
    let access_token = state
        .client_tokens
        .issue(client_id, client.to_string())
        .map_err(|error| Error::Internal(error.into()))?;
    tracing::info!(%client, "client token issued");
    let answer = ClientTokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.client_tokens.ttl_seconds(),
    };
    let mut response = axum::Json(answer).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// A form body whose one `grant_type` is `client_credentials`.
fn check_grant(headers: &HeaderMap, body: &[u8]) -> Result<(), Error> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(Error::OAuth(TokenRefusal::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        )));
    }
    let grants: Vec<String> = url::form_urlencoded::parse(body)
        .filter(|(name, _)| name == "grant_type")
        .map(|(_, value)| value.into_owned())
        .collect();
    match grants.as_slice() {
        [grant] if grant == "client_credentials" => Ok(()),
        [_] => Err(Error::OAuth(TokenRefusal::UnsupportedGrantType)),
        [] => Err(Error::OAuth(TokenRefusal::InvalidRequest(
            "grant_type is required",
        ))),
        _ => Err(Error::OAuth(TokenRefusal::InvalidRequest(
            "grant_type is repeated",
        ))),
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The answer to a refused token request: RFC 6749 section 5.2 JSON, never
/// cached, with a Basic challenge on `invalid_client` (section 2.3.1).
/// Called by `error.rs`, which keeps the status mapping.
pub(super) fn refusal_response(status: StatusCode, refusal: &TokenRefusal) -> Response {
    tracing::info!(error = refusal.code(), "token request refused");
    let body = OAuthError {
        error: refusal.code(),
        error_description: refusal.to_string(),
    };
    let mut response = (status, axum::Json(body)).into_response();
    no_store(response.headers_mut());
    if *refusal == TokenRefusal::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"liveops-ingest\""),
        );
    }
    response
}
