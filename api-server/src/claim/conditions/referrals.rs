//! `referrals { count }`: invitees who signed up with the user's code
//! inside the event window.

use sqlx::PgPool;

use super::{Claimant, Condition};

/// At least `count` invitees whose signup falls in `[startsAt, endsAt)`.
#[derive(Debug, Clone, Copy)]
pub struct Referrals {
    /// Required number of invitees.
    pub count: u32,
}

impl Condition for Referrals {
    async fn is_met(&self, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
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
            "#,
            claimant.user_id,
            claimant.starts_at,
            claimant.ends_at,
            i64::from(self.count),
        )
        .fetch_one(db)
        .await
    }
}
