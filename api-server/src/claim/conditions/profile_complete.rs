//! `profileComplete`: nickname, bio and profile image URL all set.

use sqlx::PgPool;

use super::{Claimant, Condition};

/// Nickname, bio and profile image URL all present and not blank.
#[derive(Debug, Clone, Copy)]
pub struct ProfileComplete;

impl Condition for ProfileComplete {
    async fn is_met(&self, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
        let met = sqlx::query_scalar!(
            r#"
            select coalesce(btrim(nickname), '') <> ''
               and coalesce(btrim(bio), '') <> ''
               and coalesce(btrim(profile_image_url), '') <> '' as "met!"
            from users
            where id = $1
            "#,
            claimant.user_id,
        )
        .fetch_optional(db)
        .await?;
        Ok(met.unwrap_or(false))
    }
}
