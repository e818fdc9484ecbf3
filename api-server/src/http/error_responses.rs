//! The problem answers several routes share, as the OpenAPI document shows
//! them: `application/problem+json` with the `Problem` schema and the headers
//! `http/error.rs` sets. A route lists the types of the answers it can give
//! (`responses((status = 200, ...), Unauthenticated, Unavailable)`); answers
//! particular to one route are tuples with `content_type = PROBLEM_JSON`.

use std::collections::BTreeMap;

use utoipa::{
    IntoResponses,
    openapi::{
        Content, Ref, RefOr, Response, ResponseBuilder,
        header::{Header, HeaderBuilder},
        schema::{Object, Type},
    },
};

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An answer with a `Problem` body and `description`.
pub fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
}

fn header(description: &str, schema_type: Type) -> Header {
    HeaderBuilder::new()
        .schema(Some(Object::with_type(schema_type)))
        .description(Some(description))
        .build()
}

fn answers(
    list: impl IntoIterator<Item = (&'static str, ResponseBuilder)>,
) -> BTreeMap<String, RefOr<Response>> {
    list.into_iter()
        .map(|(status, response)| (status.to_owned(), response.build().into()))
        .collect()
}

fn retry_after() -> Header {
    header("seconds to wait before retrying", Type::Integer)
}

/// 400: a path parameter, query string, header or body that does not parse
/// or breaks a rule.
pub struct BadRequest;

impl IntoResponses for BadRequest {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers([(
            "400",
            problem(
                "VALIDATION_FAILED or MALFORMED_JSON: the input does not parse or breaks a rule; `detail` says which",
            ),
        )])
    }
}

/// 413 and 415: what the body limit and the JSON extractor refuse before a
/// handler runs.
pub struct BodyRefused;

impl IntoResponses for BodyRefused {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers([
            (
                "413",
                problem("PAYLOAD_TOO_LARGE: the body is over MAX_BODY_BYTES"),
            ),
            (
                "415",
                problem("UNSUPPORTED_MEDIA_TYPE: a body without Content-Type: application/json"),
            ),
        ])
    }
}

/// 401: no, malformed, expired or foreign access token.
pub struct Unauthenticated;

impl IntoResponses for Unauthenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers([(
            "401",
            problem("UNAUTHORIZED: no, malformed, expired or invalid access token, or its account is gone")
                .header("WWW-Authenticate", header("always `Bearer`", Type::String)),
        )])
    }
}

/// 403: the token's role is not one the route admits.
pub struct Forbidden;

impl IntoResponses for Forbidden {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers([(
            "403",
            problem("FORBIDDEN: the caller's role may not call this route"),
        )])
    }
}

/// 429: over a per-minute rate limit.
pub struct RateLimited;

impl IntoResponses for RateLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers([(
            "429",
            problem("RATE_LIMITED: too many attempts this minute").header("Retry-After", retry_after()),
        )])
    }
}

/// 503: the database cannot be reached (`Error::Unavailable`); every route
/// that reads or writes it can answer this.
pub struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers([(
            "503",
            problem("UNAVAILABLE: the database is not reachable; retry after Retry-After")
                .header("Retry-After", retry_after()),
        )])
    }
}
