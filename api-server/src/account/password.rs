//! Password rules and argon2id hashing, always on the blocking pool so a
//! hash never stalls the async runtime (DESIGN.md, "Security baseline").

use std::sync::OnceLock;

use argon2::password_hash::{SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// Shortest accepted password (NIST 800-63B; the seed allowed 6).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password: bounds hashing work per request.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A password that is too short or too long.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long")]
pub struct PasswordLengthError;

/// Checks the length rule, counting characters rather than bytes.
pub fn check_length(password: &str) -> Result<(), PasswordLengthError> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(PasswordLengthError)
    }
}

/// argon2id with the OWASP parameters: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password`, hashed on the blocking pool.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches `stored`; on the blocking pool. With no stored
/// hash (unknown email) a dummy hash is verified anyway, so the answer takes
/// as long as for a real account and timing does not reveal who exists.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let phc = match stored {
            Some(phc) => phc,
            None => dummy_hash()?.to_owned(),
        };
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
        let matches = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(exists && matches)
    })
    .await?
}

/// Computes the dummy hash ahead of the first login with an unknown email,
/// which would otherwise take twice as long as any other and stand out.
pub async fn warm_up() -> anyhow::Result<()> {
    tokio::task::spawn_blocking(|| dummy_hash().map(|_| ())).await?
}

fn dummy_hash() -> anyhow::Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_now("dummy password that no account has")?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::{check_length, hash, verify};

    #[test]
    fn length_rule_counts_characters_between_8_and_128() {
        assert!(check_length("1234567").is_err());
        assert!(check_length("12345678").is_ok());
        assert!(check_length(&"가".repeat(8)).is_ok());
        assert!(check_length(&"x".repeat(128)).is_ok());
        assert!(check_length(&"x".repeat(129)).is_err());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse".to_owned()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify("correct horse".to_owned(), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse".to_owned(), Some(stored))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(
            !verify("dummy password that no account has".to_owned(), None)
                .await
                .expect("verify")
        );
    }
}
