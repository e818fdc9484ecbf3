//! `referrals { count, verifiedOnly }`: invitees who signed up with the
//! user's code inside the event window, optionally only those who verified
//! their email address.

use sqlx::PgPool;

use super::{Claimant, Condition};

/// At least `count` invitees whose signup falls in `[startsAt, endsAt)`.
#[derive(Debug, Clone, Copy)]
pub struct Referrals {
    /// Required number of invitees.
    pub count: u32,
}

/// At least `count` invitees whose signup falls in `[startsAt, endsAt)` and
/// whose email address is verified (`verifiedOnly: true`): an address
/// nobody reads does not make a friend.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedReferrals {
    /// Required number of verified invitees.
    pub count: u32,
}

impl Condition for Referrals {
    async fn is_met(&self, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
        invitees_at_least(db, claimant, self.count, false).await
    }
}

impl Condition for VerifiedReferrals {
    async fn is_met(&self, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
        invitees_at_least(db, claimant, self.count, true).await
    }
}

async fn invitees_at_least(
    db: &PgPool,
    claimant: &Claimant,
    count: u32,
    verified_only: bool,
) -> sqlx::Result<bool> {
    // The schema forbids self-referral (referrals_not_self); the
    // `invitee_id <> inviter_id` test keeps it uncounted should that
    // constraint ever be relaxed.
    sqlx::query_scalar!(
        r#"
        select count(*) >= $4 as "met!"
        from referrals r
        join users invitee on invitee.id = r.invitee_id
        where r.inviter_id = $1 and r.invitee_id <> r.inviter_id
          and invitee.created_at >= $2 and invitee.created_at < $3
          and (not $5 or invitee.email_verified_at is not null)
        "#,
        claimant.user_id,
        claimant.starts_at,
        claimant.ends_at,
        i64::from(count),
        verified_only,
    )
    .fetch_one(db)
    .await
}
