//! Single-use tokens mailed as links (DESIGN.md, "Accounts": single-use,
//! stored hashed, expiring). Issuing one retires the user's earlier unused
//! tokens of the same purpose, so only the newest mail's link works.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use super::opaque_token;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm that the account's owner reads mail at its address.
    VerifyEmail,
    /// Set a new password without knowing the old one.
    ResetPassword,
}

impl Purpose {
    /// The `account_tokens.purpose` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    /// How long a token stays good: a day to verify (mail can wait in an
    /// inbox), half an hour to reset (a reset link is a password).
    pub fn lifetime(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::from_secs(24 * 60 * 60),
            Self::ResetPassword => Duration::from_secs(30 * 60),
        }
    }
}

/// Why a presented token was not redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// No token of this purpose has this text.
    #[error("this link is not valid; ask for a new one")]
    Unknown,
    /// Redeemed before, or replaced by a newer mail.
    #[error("this link was already used or replaced by a newer one; ask for a new one")]
    Used,
    /// Past its lifetime.
    #[error("this link has expired; ask for a new one")]
    Expired,
}

/// Issues a token for `user_id`, retiring the earlier ones of `purpose`.
/// Returns the token text, which goes into a mail and nowhere else.
pub async fn issue(conn: &mut PgConnection, user_id: Uuid, purpose: Purpose) -> sqlx::Result<String> {
    retire(conn, user_id, purpose).await?;
    let token = opaque_token::generate();
    sqlx::query!(
        "insert into account_tokens (token_hash, user_id, purpose, expires_at)
         values ($1, $2, $3, now() + make_interval(secs => $4))",
        opaque_token::hash(&token),
        user_id,
        purpose.as_str(),
        purpose.lifetime().as_secs_f64(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// Marks every unused token of `purpose` for `user_id` used (a password
/// change makes pending reset links worthless).
pub async fn retire(conn: &mut PgConnection, user_id: Uuid, purpose: Purpose) -> sqlx::Result<()> {
    sqlx::query!(
        "update account_tokens set used_at = now()
         where user_id = $1 and purpose = $2 and used_at is null",
        user_id,
        purpose.as_str(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Redeems `presented` for `purpose`: marks it used and returns its user,
/// or says why not. One statement, so two concurrent redemptions of one
/// token cannot both succeed.
pub async fn redeem(
    conn: &mut PgConnection,
    presented: &str,
    purpose: Purpose,
) -> sqlx::Result<Result<Uuid, TokenRefusal>> {
    // No generated token holds NUL, and PostgreSQL text could not carry it.
    if presented.contains('\0') {
        return Ok(Err(TokenRefusal::Unknown));
    }
    let hash = opaque_token::hash(presented.trim());
    let redeemed = sqlx::query_scalar!(
        "update account_tokens set used_at = now()
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()
         returning user_id",
        hash,
        purpose.as_str(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(user_id) = redeemed {
        return Ok(Ok(user_id));
    }
    let found = sqlx::query!(
        r#"select used_at is not null as "used!" from account_tokens
           where token_hash = $1 and purpose = $2"#,
        hash,
        purpose.as_str(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Err(match found {
        None => TokenRefusal::Unknown,
        Some(token) if token.used => TokenRefusal::Used,
        Some(_) => TokenRefusal::Expired,
    }))
}
