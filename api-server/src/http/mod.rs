//! HTTP layer: the shared state and the route table. Every route the API
//! serves is listed in [`routes`], which feeds both the axum router and the
//! OpenAPI document.

pub mod auth;
pub mod claim_history;
pub mod claims;
pub mod client_address;
pub mod client_auth;
pub mod email_verification;
pub mod error;
mod error_conversions;
pub mod error_responses;
pub mod events;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod oauth_token;
pub mod openapi;
pub mod password;
pub mod profile;
pub mod progress;
pub mod refresh_cookie;
pub mod request_id;
pub mod rewards;
pub mod roles;
pub mod session;
pub mod signals;
pub mod signup;
pub mod timeout;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Request},
    middleware,
    response::{IntoResponse, Response},
};
use sqlx::PgPool;
use tower_http::{
    LatencyUnit,
    catch_panic::CatchPanicLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{
    access_token::JwtKeys,
    account::mail::{MailQueue, delivery::Mailer},
    config::Config,
    ingest::{ClientTokenKeys, client_rate::SignalBudgets},
};
pub use error::{Error, Result};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: PgPool,
    /// Validated configuration.
    pub config: Arc<Config>,
    /// Access-token signing and verification keys.
    pub jwt: Arc<JwtKeys>,
    /// Client-token signing and verification keys (game servers).
    pub client_tokens: Arc<ClientTokenKeys>,
    /// Game servers' signal budgets as this replica counts them.
    pub signal_budgets: Arc<SignalBudgets>,
    /// The server's Prometheus metrics.
    pub metrics: metrics::ApiMetrics,
    /// Where account mail is queued.
    pub mail: MailQueue,
    /// What delivers it (SMTP, or the log).
    pub mailer: Mailer,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The route table: each resource's routes, declared once with the
/// handler's `#[utoipa::path]`, so the router and the document cannot drift.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .merge(signup::router())
        .merge(session::router())
        .merge(email_verification::router())
        .merge(password::router())
        .merge(profile::router())
        .merge(roles::router())
        .merge(events::router())
        .merge(rewards::router())
        .merge(claims::router())
        .merge(claim_history::router())
        .merge(progress::router())
        .merge(oauth_token::router())
        .merge(signals::router())
}

/// The routes, `/openapi.json` and `/docs`, and the middleware around them.
/// `/metrics` is not among them: it has its own listener ([`metrics::app`]).
pub fn router(state: AppState) -> Router {
    let max_body_bytes = state.config.max_body_bytes;
    let time_limit = Duration::from_secs(u64::from(state.config.request_timeout_seconds));
    let (api, document) = routes().split_for_parts();
    // One access-log line per request at info, in the span that carries the request id.
    let access_log = TraceLayer::new_for_http()
        .make_span_with(request_span)
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        );
    api.merge(openapi::router(document))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // route_layer: only matched routes, so the route template is known
        .route_layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track_request,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            time_limit,
            timeout::limit_request_time,
        ))
        .layer(access_log)
        .layer(middleware::from_fn(request_id::assign_request_id))
        .with_state(state)
}

async fn route_not_found() -> Error {
    Error::NotFound("no route matches this path".to_owned())
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Error::Internal(anyhow::anyhow!("a handler panicked")).into_response()
}

fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&request_id::REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, http::Request, routing::get};
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    use super::panic_response;

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_opaque_problem_500() {
        async fn explode() -> &'static str {
            panic!("boom")
        }
        let app = Router::new()
            .route("/", get(explode))
            .layer(CatchPanicLayer::custom(panic_response));
        let request = Request::builder().uri("/").body(Body::empty()).expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(response.status(), 500);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("\"code\":\"INTERNAL\"") && !text.contains("boom"),
            "{text}"
        );
    }
}
