//! The refresh token as an HttpOnly, Secure, SameSite=Strict cookie, scoped
//! to `/auth` so it travels only to the endpoints that use it.

use axum::http::{HeaderMap, HeaderValue, header};

/// Cookie name.
pub const COOKIE_NAME: &str = "refresh_token";

/// `Set-Cookie` value carrying `token` for `max_age_seconds`.
pub fn set(token: &str, max_age_seconds: u64) -> HeaderValue {
    let cookie = format!(
        "{COOKIE_NAME}={token}; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age={max_age_seconds}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| clear())
}

/// `Set-Cookie` value that deletes the cookie.
pub fn clear() -> HeaderValue {
    HeaderValue::from_static("refresh_token=; HttpOnly; Secure; SameSite=Strict; Path=/auth; Max-Age=0")
}

/// The token from the request's `Cookie` headers, if any.
pub fn read(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{read, set};

    #[test]
    fn reads_the_token_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; refresh_token=abc-_1; b=2"),
        );
        assert_eq!(read(&headers).as_deref(), Some("abc-_1"));
    }

    #[test]
    fn the_cookie_is_http_only_secure_and_strict() {
        let value = set("tok", 60);
        let text = value.to_str().unwrap_or_default();
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Max-Age=60",
            "Path=/auth",
        ] {
            assert!(text.contains(attribute), "{text}");
        }
    }
}
