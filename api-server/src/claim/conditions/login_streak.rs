//! `loginStreak { days }`: consecutive local login days inside the window.

use sqlx::PgPool;

use super::{Claimant, Condition};

/// A run of `days` consecutive days, in the event's time zone, each with a
/// login inside `[startsAt, endsAt)`.
#[derive(Debug, Clone, Copy)]
pub struct LoginStreak {
    /// Required run length in local days.
    pub days: u32,
}

impl Condition for LoginStreak {
    async fn is_met(&self, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
        // Gaps and islands: within a run of consecutive days, day minus its
        // rank is constant, so each run is one group.
        sqlx::query_scalar!(
            r#"
            with login_days as (
                select distinct (l.logged_in_at at time zone $4)::date as day
                from user_logins l
                where l.user_id = $1 and l.logged_in_at >= $2 and l.logged_in_at < $3
            ),
            islands as (
                select day - (row_number() over (order by day))::int as island
                from login_days
            )
            select coalesce(max(run), 0) >= $5 as "met!"
            from (select count(*) as run from islands group by island) runs
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
