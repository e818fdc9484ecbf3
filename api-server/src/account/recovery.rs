//! Password recovery and change (DESIGN.md, "Accounts"): forgot mails a
//! reset link without revealing whether the address has an account; reset
//! and change set the password and end every session of the account.

use sqlx::PgPool;
use uuid::Uuid;

use super::{
    AccountError,
    mail::{MailQueue, template},
    one_time_token::{self, Purpose, TokenRefusal},
    password,
    session::{self, IssuedRefreshToken},
};
use crate::role::Role;

/// The path of the reset link, under `PUBLIC_URL`.
pub const RESET_PATH: &str = "/auth/password/reset";

/// What a password change came to.
#[derive(Debug)]
pub enum ChangeOutcome {
    /// Changed; every other session is revoked and this one continues with
    /// a fresh refresh token.
    Changed {
        /// The account's role, for the new access token.
        role: Role,
        /// The new session's first refresh token.
        refresh: IssuedRefreshToken,
    },
    /// The current password given is wrong.
    WrongPassword,
    /// The account no longer exists.
    AccountGone,
}

/// Queues a reset mail when `email` (normalised) has an account; does
/// nothing otherwise. Either way the caller answers the same.
pub async fn forgot(db: &PgPool, queue: &MailQueue, email: &str) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let account = sqlx::query!(
        "select id, email from users where lower(email) = $1 for update",
        email
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(account) = account else {
        tracing::info!("password reset asked for an address without an account");
        return Ok(());
    };
    let token = one_time_token::issue(&mut tx, account.id, Purpose::ResetPassword).await?;
    let mail = template::password_reset(&queue.link(RESET_PATH, &token));
    queue.enqueue(&mut tx, &account.email, &mail).await?;
    tx.commit().await?;
    queue.wake();
    tracing::info!(user_id = %account.id, "password reset mail queued");
    Ok(())
}

/// Redeems a reset token and sets the password to `new_hash` (hashed by
/// the caller, outside the transaction). Every refresh token of the account
/// is revoked; the address counts as verified, since the link reached it.
pub async fn reset(db: &PgPool, token: &str, new_hash: &str) -> sqlx::Result<Result<Uuid, TokenRefusal>> {
    let mut tx = db.begin().await?;
    let user_id = match one_time_token::redeem(&mut tx, token, Purpose::ResetPassword).await? {
        Ok(user_id) => user_id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    sqlx::query!(
        "update users set password_hash = $2, email_verified_at = coalesce(email_verified_at, now()),
                updated_at = now()
         where id = $1",
        user_id,
        new_hash,
    )
    .execute(&mut *tx)
    .await?;
    let revoked = session::revoke_all(&mut tx, user_id).await?;
    tx.commit().await?;
    tracing::info!(%user_id, revoked_sessions = revoked, "password reset");
    Ok(Ok(user_id))
}

/// Changes the password of a signed-in user who knows the current one.
/// Pending reset links and every session end; a new session starts.
pub async fn change(
    db: &PgPool,
    user_id: Uuid,
    current: String,
    new: String,
    refresh_ttl_seconds: u64,
) -> Result<ChangeOutcome, AccountError> {
    let stored = sqlx::query!(
        r#"select password_hash, role as "role: Role" from users where id = $1"#,
        user_id
    )
    .fetch_optional(db)
    .await?;
    let Some(stored) = stored else {
        return Ok(ChangeOutcome::AccountGone);
    };
    if !password::verify(current, Some(stored.password_hash)).await? {
        return Ok(ChangeOutcome::WrongPassword);
    }
    let new_hash = password::hash(new).await?;
    let mut tx = db.begin().await?;
    sqlx::query!(
        "update users set password_hash = $2, updated_at = now() where id = $1",
        user_id,
        new_hash,
    )
    .execute(&mut *tx)
    .await?;
    one_time_token::retire(&mut tx, user_id, Purpose::ResetPassword).await?;
    let revoked = session::revoke_all(&mut tx, user_id).await?;
    let refresh = session::start(&mut tx, user_id, refresh_ttl_seconds).await?;
    tx.commit().await?;
    tracing::info!(%user_id, revoked_sessions = revoked, "password changed");
    Ok(ChangeOutcome::Changed {
        role: stored.role,
        refresh,
    })
}
