//! The request deadline (REQUEST_TIMEOUT_SECONDS): a request still running
//! past it is abandoned and answered 503 TIMEOUT with Retry-After.
//!
//! Abandoning drops the handler's future. That is safe for every write the
//! API makes: each is one statement or one transaction, which PostgreSQL
//! commits whole or rolls back when the connection drops it, and a claim
//! retried with its Idempotency-Key gets the answer of whatever committed.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::Error;

/// Middleware: runs the rest of the stack under `limit`.
pub async fn limit_request_time(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%method, %path, limit_ms = limit.as_millis() as u64, "request timed out");
            Error::Timeout.into_response()
        }
    }
}
