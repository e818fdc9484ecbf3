//! Standard Webhooks signatures (DESIGN.md, "Event bus"): `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
//! endpoint's secret, given as `whsec_<base64>` per the specification.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// Prefix of a secret in the specification's format.
pub const SECRET_PREFIX: &str = "whsec_";

/// An endpoint's signing key.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl SigningKey {
    /// The key in `secret`: the base64 after `whsec_`, or, for a value
    /// without the prefix, its bytes as they are (what a Secret created
    /// by hand often holds). A `whsec_` value that is not base64 is refused:
    /// signing with its text would never verify at the receiver.
    pub fn parse(secret: &Secret) -> Result<Self, String> {
        let text = secret.expose().trim();
        let key = match text.strip_prefix(SECRET_PREFIX) {
            Some(encoded) => STANDARD
                .decode(encoded)
                .map_err(|error| format!("the whsec_ secret is not base64: {error}"))?,
            None => text.as_bytes().to_vec(),
        };
        if key.is_empty() {
            return Err("the signing secret is empty".to_owned());
        }
        Ok(Self(key))
    }

    /// The `webhook-signature` header value for one attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of every length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::SigningKey;
    use crate::config::Secret;

    #[test]
    fn matches_the_specification_example() {
        // The example of the Standard Webhooks reference libraries.
        let key = SigningKey::parse(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).expect("key");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_bad_or_empty_secret_is_refused() {
        assert!(SigningKey::parse(&Secret::new("whsec_!!not base64")).is_err());
        assert!(SigningKey::parse(&Secret::new("  ")).is_err());
        assert!(SigningKey::parse(&Secret::new("plain-secret")).is_ok());
    }
}
