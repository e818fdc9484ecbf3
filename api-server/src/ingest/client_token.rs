//! Client tokens: HS256 JWTs signed with the user tokens' keys but with
//! their own audience (INGEST_TOKEN_AUDIENCE) and a `client_id` claim, so a
//! client token never passes as a user token (wrong audience, no `role`,
//! `sub` not a user id) and a user token never passes as a client token
//! (wrong audience, no `client_id`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::{Config, ConfigError},
    jwt_codec::{JwtCodec, Registered, TokenRejection},
};

/// The claims of a client token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientClaims {
    /// The client as `<namespace>/<name>`.
    pub sub: String,
    /// The `ingest_clients` row: what marks the token as a client's.
    pub client_id: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience: INGEST_TOKEN_AUDIENCE.
    pub aud: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// Signing and verification of client tokens (JWT_SECRET and
/// JWT_PREVIOUS_SECRET, chosen by `kid` as for user tokens).
#[derive(Debug)]
pub struct ClientTokenKeys {
    codec: JwtCodec,
}

impl ClientTokenKeys {
    /// Keys from validated configuration.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let ingest = &config.ingest;
        let codec = JwtCodec::new(
            config,
            &ingest.ingest_token_audience,
            ingest.ingest_token_ttl_seconds,
        )?;
        Ok(Self { codec })
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.codec.ttl_seconds()
    }

    /// A signed token for the client `client_id` named `subject`.
    pub fn issue(&self, client_id: Uuid, subject: String) -> Result<String, jsonwebtoken::errors::Error> {
        let Registered { iss, aud, iat, exp } = self.codec.registered();
        self.codec.sign(&ClientClaims {
            sub: subject,
            client_id,
            iss,
            aud,
            iat,
            exp,
        })
    }

    /// The claims of a well-formed, unexpired client token signed by a key
    /// we hold. Whether the client is still allowed is the caller's check.
    pub fn verify(&self, token: &str) -> Result<ClientClaims, TokenRejection> {
        self.codec.verify(token)
    }
}
