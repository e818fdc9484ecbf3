//! The HS256 JWT codec behind user access tokens and game-server client
//! tokens: signs with JWT_SECRET under its `kid`, verifies with it or
//! JWT_PREVIOUS_SECRET (chosen by `kid`), for exactly one audience, so the
//! two kinds of token never pass for each other.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Serialize, de::DeserializeOwned};

use crate::config::{Config, ConfigError};

/// Why a presented token was refused; logged, never shown to the client.
#[derive(Debug, thiserror::Error)]
pub enum TokenRejection {
    /// The header names a key id we do not hold.
    #[error("unknown kid {0:?}")]
    UnknownKeyId(Option<String>),
    /// Signature, algorithm, expiry, issuer, audience or shape is wrong.
    #[error(transparent)]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The registered claims of a token issued now: `iss`, `aud`, `iat`, `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// Signing key, the keys accepted for verification by `kid`, and the
/// validation of one audience.
pub struct JwtCodec {
    kid: String,
    encoding: EncodingKey,
    verification: Vec<(String, DecodingKey)>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
}

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtCodec")
            .field("kid", &self.kid)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtCodec {
    /// The codec of tokens for `audience` living `ttl_seconds`, with the
    /// keys and issuer of validated configuration.
    pub fn new(config: &Config, audience: &str, ttl_seconds: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        let secret = config.jwt_secret.as_ref().ok_or(ConfigError::MissingJwtSecret)?;
        let mut verification = vec![(
            config.jwt_key_id.clone(),
            DecodingKey::from_secret(secret.expose().as_bytes()),
        )];
        if let Some(previous) = &config.jwt_previous_secret {
            verification.push((
                config.jwt_previous_key_id.clone(),
                DecodingKey::from_secret(previous.expose().as_bytes()),
            ));
        }
        // The allow-list is exactly HS256: `alg: none` and any other
        // algorithm are refused before a signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            kid: config.jwt_key_id.clone(),
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            verification,
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: audience.to_owned(),
            ttl_seconds,
        })
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// The registered claims of a token issued now.
    pub fn registered(&self) -> Registered {
        let now = unix_now();
        Registered {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl_seconds,
        }
    }

    /// `claims` signed with the current key, its `kid` in the header.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// The claims of a token that is well formed, signed by a key we hold
    /// (chosen by `kid`), unexpired, and meant for this audience.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, TokenRejection> {
        let header = jsonwebtoken::decode_header(token)?;
        let (_, key) = self
            .verification
            .iter()
            .find(|(kid, _)| header.kid.as_deref() == Some(kid.as_str()))
            .ok_or(TokenRejection::UnknownKeyId(header.kid))?;
        Ok(jsonwebtoken::decode::<C>(token, key, &self.validation)?.claims)
    }
}
