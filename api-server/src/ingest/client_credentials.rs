//! Client authentication at `POST /oauth/token` (RFC 6749 sections 2.3.1
//! and 4.4): HTTP Basic with the client id `<namespace>/<name>` and the raw
//! secret, checked against the SHA-256 digests in `ingest_clients`.

use base64::{Engine, engine::general_purpose::STANDARD};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Why no token was issued: the RFC 6749 section 5.2 error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// A missing, malformed or repeated parameter (400 `invalid_request`).
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// Unknown, suspended or deleted client, or a wrong secret (401 `invalid_client`).
    #[error("client authentication failed")]
    InvalidClient,
    /// A grant type other than `client_credentials` (400 `unsupported_grant_type`).
    #[error("only grant_type=client_credentials is supported")]
    UnsupportedGrantType,
}

impl TokenRefusal {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenRefusal::InvalidRequest(_) => "invalid_request",
            TokenRefusal::InvalidClient => "invalid_client",
            TokenRefusal::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// A client id as presented: `<namespace>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId {
    /// The IngestClient's namespace.
    pub namespace: String,
    /// The IngestClient's name.
    pub name: String,
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The client id and secret of an `Authorization: Basic` header value.
/// Both halves are form-encoded (RFC 6749 2.3.1), so `ns%2Fname` is `ns/name`.
pub fn parse_basic(header: &str) -> Result<(ClientId, String), TokenRefusal> {
    let (scheme, encoded) = header.trim().split_once(' ').ok_or(TokenRefusal::InvalidClient)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenRefusal::InvalidClient);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(TokenRefusal::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(TokenRefusal::InvalidClient)?;
    let id = form_decode(id)?;
    let secret = form_decode(secret)?;
    let (namespace, name) = id.split_once('/').ok_or(TokenRefusal::InvalidClient)?;
    if namespace.is_empty() || name.is_empty() || secret.is_empty() || id.contains('\0') {
        return Err(TokenRefusal::InvalidClient);
    }
    let client = ClientId {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    Ok((client, secret))
}

/// `application/x-www-form-urlencoded` decoding of one value.
fn form_decode(text: &str) -> Result<String, TokenRefusal> {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| TokenRefusal::InvalidClient)
}

/// The id of the client whose secret this is, if it exists, is neither
/// suspended nor deleted, and one of its stored digests matches.
pub async fn authenticate(db: &PgPool, client: &ClientId, secret: &str) -> sqlx::Result<Option<Uuid>> {
    let row = sqlx::query!(
        "select id, secret_hashes from ingest_clients
         where namespace = $1 and name = $2 and not suspended and deleted_at is null",
        client.namespace,
        client.name,
    )
    .fetch_optional(db)
    .await?;
    let digest = Sha256::digest(secret.as_bytes());
    // Compare against every stored digest (two during rotation) without
    // stopping early, so timing tells nothing about which one matched.
    Ok(row.and_then(|row| {
        let matched = row
            .secret_hashes
            .iter()
            .fold(subtle::Choice::from(0), |found, stored| {
                found | stored.as_slice().ct_eq(&digest[..])
            });
        bool::from(matched).then_some(row.id)
    }))
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::STANDARD};

    use super::{TokenRefusal, parse_basic};

    fn basic(pair: &str) -> String {
        format!("Basic {}", STANDARD.encode(pair))
    }

    #[test]
    fn a_client_id_is_namespace_slash_name_plain_or_encoded() {
        for id in ["games/pc-cafe", "games%2Fpc-cafe", "games%2fpc-cafe"] {
            let (client, secret) = parse_basic(&basic(&format!("{id}:s3cret"))).expect("parses");
            assert_eq!(client.to_string(), "games/pc-cafe");
            assert_eq!(secret, "s3cret");
        }
    }

    #[test]
    fn malformed_basic_credentials_are_an_invalid_client() {
        for header in [
            "Bearer abc".to_owned(),
            "Basic !!!".to_owned(),
            basic("no-colon"),
            basic("noslash:secret"),
            basic("games/x:"),
            basic("/x:secret"),
        ] {
            assert_eq!(parse_basic(&header), Err(TokenRefusal::InvalidClient), "{header}");
        }
    }
}
