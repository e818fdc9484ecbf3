//! The client's address, for per-address rate limits: the socket peer, or
//! the last `X-Forwarded-For` entry when `TRUST_FORWARDED_FOR` is set.
//!
//! The last entry is the one the trusted proxy appended; earlier entries
//! come from the client and can say anything.

use std::{
    convert::Infallible,
    net::{IpAddr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use super::AppState;

/// Where the request came from; `None` when the server was not started with
/// connection info (a router driven directly in a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// Rate-limit bucket name for `action` from this address.
    pub fn bucket(&self, action: &str) -> String {
        match self.0 {
            Some(ip) => format!("{action}:ip:{ip}"),
            None => format!("{action}:ip:unknown"),
        }
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.rsplit(',').next())
                .and_then(|last| last.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(Some(ip)));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(peer))
    }
}
