//! `none`: anyone may claim while the event is active (attendance rewards).

use sqlx::PgPool;

use super::{Claimant, Condition};

/// No condition at all. The claim statement itself skips evaluation for
/// events without a condition, so this only answers direct calls.
#[derive(Debug, Clone, Copy)]
pub struct NoCondition;

impl Condition for NoCondition {
    async fn is_met(&self, _db: &PgPool, _claimant: &Claimant) -> sqlx::Result<bool> {
        Ok(true)
    }
}
