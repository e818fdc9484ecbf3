//! Email verification (DESIGN.md, "Accounts"): the mail sent at signup and
//! on resend, whose link `{PUBLIC_URL}/auth/verify-email?token=TOKEN`
//! proves the owner reads mail at the account's address.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    mail::{MailQueue, template},
    one_time_token::{self, Purpose, TokenRefusal},
};

/// The path of the verification link, under `PUBLIC_URL`.
pub const VERIFY_PATH: &str = "/auth/verify-email";

/// What a resend request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendOutcome {
    /// A new mail is queued; earlier links stop working.
    Queued,
    /// The address is verified already; nothing was sent.
    AlreadyVerified,
    /// The account no longer exists.
    AccountGone,
}

/// Issues a verification token for `user_id` and queues its mail to
/// `email`, inside the caller's transaction (the signup's, so the account
/// and its mail exist together). Call [`MailQueue::wake`] after commit.
pub async fn queue_mail(
    conn: &mut PgConnection,
    queue: &MailQueue,
    user_id: Uuid,
    email: &str,
) -> sqlx::Result<()> {
    let token = one_time_token::issue(conn, user_id, Purpose::VerifyEmail).await?;
    let mail = template::verification(&queue.link(VERIFY_PATH, &token));
    queue.enqueue(conn, email, &mail).await
}

/// Sends a fresh verification mail to a signed-in user.
pub async fn resend(db: &PgPool, queue: &MailQueue, user_id: Uuid) -> sqlx::Result<ResendOutcome> {
    let mut tx = db.begin().await?;
    // Locked, so two resends at once leave exactly one live link.
    let account = sqlx::query!(
        r#"select email, email_verified_at is not null as "verified!" from users where id = $1 for update"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(account) = account else {
        return Ok(ResendOutcome::AccountGone);
    };
    if account.verified {
        return Ok(ResendOutcome::AlreadyVerified);
    }
    queue_mail(&mut tx, queue, user_id, &account.email).await?;
    tx.commit().await?;
    queue.wake();
    Ok(ResendOutcome::Queued)
}

/// Redeems a verification token: the account's address counts as verified
/// from now on. Returns the account's id.
pub async fn verify(db: &PgPool, token: &str) -> sqlx::Result<Result<Uuid, TokenRefusal>> {
    let mut tx = db.begin().await?;
    let user_id = match one_time_token::redeem(&mut tx, token, Purpose::VerifyEmail).await? {
        Ok(user_id) => user_id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    sqlx::query!(
        "update users set email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
         where id = $1",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%user_id, "email verified");
    Ok(Ok(user_id))
}
