//! Opaque bearer tokens (refresh tokens, mailed links): 256 random bits in
//! URL-safe base64, of which only the SHA-256 is ever stored.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new token: 43 characters of `[A-Za-z0-9_-]`.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of `token`.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::{generate, hash};

    #[test]
    fn tokens_are_url_safe_unique_and_hashed_to_32_bytes() {
        let (first, second) = (generate(), generate());
        assert_eq!(first.len(), 43);
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(first, second);
        assert_eq!(hash(&first).len(), 32);
        assert_ne!(hash(&first), hash(&second));
    }
}
