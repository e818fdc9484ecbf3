//! Access tokens: short-lived HS256 JWTs with `iss`, `aud`, `exp`, `iat`,
//! `sub`, `role` and a `kid` header (DESIGN.md, "Security baseline").

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::{Config, ConfigError},
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

struct VerificationKey {
    kid: String,
    key: DecodingKey,
}

/// Signing key and the keys accepted for verification, by `kid`.
pub struct JwtKeys {
    kid: String,
    encoding: EncodingKey,
    verification: Vec<VerificationKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl JwtKeys {
    /// Keys from validated configuration.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let secret = config.jwt_secret.as_ref().ok_or(ConfigError::MissingJwtSecret)?;
        let mut verification = vec![VerificationKey {
            kid: config.jwt_key_id.clone(),
            key: DecodingKey::from_secret(secret.expose().as_bytes()),
        }];
        if let Some(previous) = &config.jwt_previous_secret {
            verification.push(VerificationKey {
                kid: config.jwt_previous_key_id.clone(),
                key: DecodingKey::from_secret(previous.expose().as_bytes()),
            });
        }
        // The allow-list is exactly HS256: `alg: none` and any other
        // algorithm are refused before a signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            kid: config.jwt_key_id.clone(),
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            verification,
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_seconds: config.access_token_ttl_seconds,
        })
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// A signed access token for `user_id` acting as `role`.
    pub fn issue(&self, user_id: Uuid, role: Role) -> Result<String, jsonwebtoken::errors::Error> {
        let now = unix_now();
        let claims = AccessClaims {
            sub: user_id,
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// The claims of a token that is well formed, signed by a key we hold
    /// (chosen by `kid`), unexpired, and meant for us.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let header = jsonwebtoken::decode_header(token)?;
        let key = self
            .verification
            .iter()
            .find(|candidate| header.kid.as_deref() == Some(candidate.kid.as_str()))
            .ok_or(TokenRejection::UnknownKeyId(header.kid))?;
        Ok(jsonwebtoken::decode::<AccessClaims>(token, &key.key, &self.validation)?.claims)
    }
}
