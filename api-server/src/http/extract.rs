//! `Json`, `Path` and `Query` extractors whose rejections are our
//! problem+json errors instead of axum's plain-text ones. Handlers use these,
//! never the axum originals.

use axum::{
    extract::FromRequest,
    response::{IntoResponse, Response},
};

use super::error::Error;

/// A JSON body (Content-Type application/json, within the body limit).
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

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
