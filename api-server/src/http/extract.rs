//! `Json`, `Path` and `Query` extractors whose rejections are our
//! problem+json errors instead of axum's plain-text ones. Handlers use these,
//! never the axum originals.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use super::error::Error;

/// A JSON object body (Content-Type application/json, within the body
/// limit). Only an object: serde would otherwise read a struct from a JSON
/// array by position, so `[null, null]` cleared two profile fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(&request) {
            return Err(Error::UnsupportedMediaType);
        }
        let bytes = read_body(request, state).await?;
        Ok(Self(parse_object(&bytes)?))
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; a bad UUID is a 400, not axum's plain-text answer.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

/// Query-string parameters.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// A JSON object body that may be left out entirely (an empty body or JSON
/// `null` is `None`), for endpoints that also accept their input from a
/// cookie.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = has_json_content_type(&request);
        let bytes = read_body(request, state).await?;
        if bytes.is_empty() {
            return Ok(Self(None));
        }
        if !is_json {
            return Err(Error::UnsupportedMediaType);
        }
        if bytes.trim_ascii() == b"null" {
            return Ok(Self(None));
        }
        Ok(Self(Some(parse_object(&bytes)?)))
    }
}

fn has_json_content_type(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime_type::Essence>().ok())
        .is_some_and(|essence| essence.is_json())
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Error> {
    Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge
        } else {
            Error::MalformedJson(rejection.body_text())
        }
    })
}

/// `T` from a body that must be a JSON object; axum's messages for syntax
/// and shape errors.
fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let axum::Json(value) = axum::Json::<T>::from_bytes(bytes)?;
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::Validation(
            "the request body must be a JSON object".to_owned(),
        ));
    }
    Ok(value)
}

mod mime_type {
    //! The `type/subtype` of a Content-Type, without parameters.

    /// `application/json; charset=utf-8` -> `application/json`.
    pub struct Essence(String);

    impl std::str::FromStr for Essence {
        type Err = ();
        fn from_str(value: &str) -> Result<Self, ()> {
            let essence = value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if essence.contains('/') {
                Ok(Self(essence))
            } else {
                Err(())
            }
        }
    }

    impl Essence {
        /// `application/json` or any `+json` type, as axum's `Json` accepts.
        pub fn is_json(&self) -> bool {
            self.0 == "application/json" || (self.0.starts_with("application/") && self.0.ends_with("+json"))
        }
    }
}
