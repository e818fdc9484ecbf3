//! Request ids: taken from a sane incoming `x-request-id` or generated,
//! echoed on the response, and visible to logs and problem bodies while the
//! request runs.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};

/// The header carrying the request id both ways.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: assigns the id, runs the rest of the stack inside its scope,
/// and copies it onto the response.
pub async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let incoming = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_acceptable(value))
        .map(str::to_owned);
    let id = incoming.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header = HeaderValue::from_str(&id).ok();
    if let Some(header) = &header {
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), header.clone());
    }
    let mut response = REQUEST_ID.scope(id, next.run(request)).await;
    if let Some(header) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER.clone(), header);
    }
    response
}

/// A caller-chosen id is kept only when short and printable, so it cannot
/// forge log lines.
fn is_acceptable(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::is_acceptable;

    #[test]
    fn accepts_uuids_and_refuses_control_characters_and_long_values() {
        assert!(is_acceptable("4f1c2a8e-9a4e-4b7e-8f7a-0c1d2e3f4a5b"));
        assert!(!is_acceptable("bad\nline"));
        assert!(!is_acceptable(&"x".repeat(129)));
        assert!(!is_acceptable(""));
    }
}
