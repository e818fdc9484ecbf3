//! The condition kinds of DESIGN.md ("Condition kinds"), one file each
//! behind [`Condition`], each evaluated by one SQL query.
//!
//! Adding a kind touches one new file here (a type implementing
//! [`Condition`]), its variant in `liveops_domain::ConditionKind` (with the
//! field in `ConditionSpec`), and the arm that names it in [`is_met`].

mod login_days;
mod login_streak;
mod none;
mod profile_complete;
mod referrals;

use std::future::Future;

use chrono::{DateTime, Utc};
use liveops_domain::ConditionKind;
use sqlx::PgPool;
use uuid::Uuid;

pub use login_days::LoginDays;
pub use login_streak::LoginStreak;
pub use none::NoCondition;
pub use profile_complete::ProfileComplete;
pub use referrals::{Referrals, VerifiedReferrals};

/// Who claims, and the event window the condition is judged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    /// The claiming user.
    pub user_id: Uuid,
    /// The event's `startsAt` (inclusive).
    pub starts_at: DateTime<Utc>,
    /// The event's `endsAt` (exclusive).
    pub ends_at: DateTime<Utc>,
    /// The event's IANA zone: what a "day" is.
    pub time_zone: String,
}

/// A condition a user must meet to claim an event's rewards.
pub trait Condition {
    /// Whether `claimant` meets the condition inside the event window,
    /// judged by the database.
    fn is_met(&self, db: &PgPool, claimant: &Claimant) -> impl Future<Output = sqlx::Result<bool>> + Send;
}

/// Evaluates `kind` for `claimant`.
pub async fn is_met(kind: ConditionKind, db: &PgPool, claimant: &Claimant) -> sqlx::Result<bool> {
    match kind {
        ConditionKind::None => NoCondition.is_met(db, claimant).await,
        ConditionKind::LoginStreak { days } => LoginStreak { days }.is_met(db, claimant).await,
        ConditionKind::LoginDays { days } => LoginDays { days }.is_met(db, claimant).await,
        ConditionKind::Referrals {
            count,
            verified_only: false,
        } => Referrals { count }.is_met(db, claimant).await,
        ConditionKind::Referrals {
            count,
            verified_only: true,
        } => VerifiedReferrals { count }.is_met(db, claimant).await,
        ConditionKind::ProfileComplete => ProfileComplete.is_met(db, claimant).await,
    }
}
