//! `loginDays { days }`: distinct local login days inside the event window.

use sqlx::PgPool;

use super::{Claimant, Condition};

/// At least `days` distinct days, in the event's time zone, with a login
/// inside `[startsAt, endsAt)`.
#[derive(Debug, Clone, Copy)]
pub struct LoginDays {
    /// Required number of distinct local days.
    pub days: u32,
}

impl Condition for LoginDays {
    async fn is_met(&self, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
        sqlx::query_scalar!(
            r#"
            select count(distinct (l.logged_in_at at time zone $4)::date) >= $5 as "met!"
            from user_logins l
            where l.user_id = $1 and l.logged_in_at >= $2 and l.logged_in_at < $3
            "#,
            claimant.user_id,
            claimant.starts_at,
            claimant.ends_at,
            claimant.time_zone,
            i64::from(self.days),
        )
        .fetch_one(db)
        .await
    }
}
