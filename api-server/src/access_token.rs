//! Access tokens: short-lived HS256 JWTs with `iss`, `aud`, `exp`, `iat`,
//! `sub`, `role` and a `kid` header (DESIGN.md, "Security baseline").

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::{Config, ConfigError},
    jwt_codec::{JwtCodec, Registered, TokenRejection},
    role::Role,
};

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// Signing and verification of access tokens (audience JWT_AUDIENCE).
#[derive(Debug)]
pub struct JwtKeys {
    codec: JwtCodec,
}

impl JwtKeys {
    /// Keys from validated configuration.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let codec = JwtCodec::new(config, &config.jwt_audience, config.access_token_ttl_seconds)?;
        Ok(Self { codec })
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.codec.ttl_seconds()
    }

    /// A signed access token for `user_id` acting as `role`.
    pub fn issue(&self, user_id: Uuid, role: Role) -> Result<String, jsonwebtoken::errors::Error> {
        let Registered { iss, aud, iat, exp } = self.codec.registered();
        self.codec.sign(&AccessClaims {
            sub: user_id,
            role,
            iss,
            aud,
            iat,
            exp,
        })
    }

    /// The claims of a token that is well formed, signed by a key we hold
    /// (chosen by `kid`), unexpired, and meant for us.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        self.codec.verify(token)
    }
}
