//! Client tokens: HS256 JWTs signed with the user tokens' keys but with
//! their own audience (INGEST_TOKEN_AUDIENCE) and a `client_id` claim, so a
//! client token never passes as a user token (wrong audience, no `role`,
//! `sub` not a user id) and a user token never passes as a client token
//! (wrong audience, no `client_id`).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    access_token::{TokenRejection, unix_now},
    config::{Config, ConfigError},
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

/// Signing and verification keys of client tokens (JWT_SECRET and
/// JWT_PREVIOUS_SECRET, chosen by `kid` as for user tokens).
pub struct ClientTokenKeys {
    kid: String,
    encoding: EncodingKey,
    verification: Vec<(String, DecodingKey)>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
}

impl std::fmt::Debug for ClientTokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTokenKeys")
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl ClientTokenKeys {
    /// Keys from validated configuration.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
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
        let audience = config.ingest.ingest_token_audience.clone();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            kid: config.jwt_key_id.clone(),
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            verification,
            validation,
            issuer: config.jwt_issuer.clone(),
            audience,
            ttl_seconds: config.ingest.ingest_token_ttl_seconds,
        })
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// A signed token for the client `client_id` named `subject`.
    pub fn issue(&self, client_id: Uuid, subject: String) -> Result<String, jsonwebtoken::errors::Error> {
        let now = unix_now();
        let claims = ClientClaims {
            sub: subject,
            client_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// The claims of a well-formed, unexpired client token signed by a key
    /// we hold. Whether the client is still allowed is the caller's check.
    pub fn verify(&self, token: &str) -> Result<ClientClaims, TokenRejection> {
        let header = jsonwebtoken::decode_header(token)?;
        let (_, key) = self
            .verification
            .iter()
            .find(|(kid, _)| header.kid.as_deref() == Some(kid.as_str()))
            .ok_or(TokenRejection::UnknownKeyId(header.kid))?;
        Ok(jsonwebtoken::decode::<ClientClaims>(token, key, &self.validation)?.claims)
    }
}
