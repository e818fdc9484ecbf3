//! Password rules and argon2id hashing, always on the blocking pool so a
//! hash never stalls the async runtime (DESIGN.md, "Security baseline"),
//! and at most half the cores hashing at once so a login storm cannot
//! starve claims (issue 14).

use std::sync::OnceLock;

use tokio::sync::Semaphore;

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

/// Hashes running at once: half the cores, at least one. Each takes a core
/// for tens of milliseconds; with one per core, 8 clients logging in back
/// to back left claims waiting behind them. Logins beyond this wait for a
/// turn here, off any core.
fn hashing_turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS.get_or_init(|| Semaphore::new(hashing_turn_count()))
}

fn hashing_turn_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    (cores / 2).max(1)
}

/// Runs `work` (an argon2 computation) on the blocking pool, in turn.
async fn on_hashing_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let _turn = hashing_turns().acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// The PHC string of `password`, hashed on the blocking pool.
pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hashing_turn(move || hash_now(&password)).await?
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
    on_hashing_turn(move || {
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
    use super::{check_length, hash, hashing_turn_count, verify};

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hashes_all_finish_in_turn_and_verify() {
        let hashes: Vec<_> = (0..4)
            .map(|n| tokio::spawn(hash(format!("password number {n}"))))
            .collect();
        for (n, task) in hashes.into_iter().enumerate() {
            let stored = task.await.expect("task").expect("hash");
            assert!(
                verify(format!("password number {n}"), Some(stored))
                    .await
                    .expect("verify")
            );
        }
        assert!(hashing_turn_count() >= 1);
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
