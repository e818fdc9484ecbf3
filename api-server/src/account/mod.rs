//! Accounts (DESIGN.md, "Second stage", "Accounts"): passwords, sessions,
//! email addresses, verification and reset tokens, account mail, login
//! limits, days of use and role changes. Nothing here imports `http::`:
//! each module returns its own outcome, and `http/error.rs` maps it.

pub mod activity;
pub mod email;
pub mod login_limit;
pub mod mail;
pub mod one_time_token;
pub mod opaque_token;
pub mod password;
pub mod recovery;
pub mod role_change;
pub mod session;
pub mod verification;

/// A failure of account work that is neither an answer nor a refusal.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The database failed or cannot be reached.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Password hashing failed.
    #[error(transparent)]
    Hashing(#[from] anyhow::Error),
}
