//! Why a user can or cannot claim a reward right now, without claiming
//! (`kubectl liveops explain-claim`): `sql/explain.sql` reads the flags the
//! claim statement would compute, [`Flags::refusal`] ranks them as the claim
//! does, and the event's condition is evaluated by the same
//! [`conditions::is_met`]. The verdict is the answer a claim would get at
//! the same instant, races aside (see `tests/explain.rs`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    conditions::{self, Claimant},
    decision::{Flags, condition_kind},
    refusal::{ClaimRefusal, InactiveReason},
    statement_errors::is_invalid_time_zone,
};

/// The figures a claim of one reward by one user is decided on, read at
/// the database's `checked_at`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimFacts {
    pub reward_id: Uuid,
    pub reward_namespace: String,
    pub reward_name: String,
    pub reward_deleted: bool,
    pub event_id: Uuid,
    pub event_namespace: String,
    pub event_name: String,
    pub generation: i64,
    /// The phase the operator last projected.
    pub phase: String,
    /// The stored `spec.condition` (`{}`: none).
    pub condition: serde_json::Value,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub claim_frequency: String,
    /// The claim period the limits count in (`once`, a local date or week).
    pub period_key: String,
    /// The database's `now()` the facts were read at.
    pub checked_at: DateTime<Utc>,
    pub event_deleted: bool,
    pub suspended: bool,
    pub invalid: bool,
    pub before_start: bool,
    pub in_window: bool,
    pub per_user_limit: i32,
    /// Grants of this reward to the user in the current period.
    pub claimed_by_user: i32,
    pub max_rewards_per_user: Option<i32>,
    /// Distinct rewards of the event the user took in the current period.
    pub rewards_taken_by_user: i32,
    /// Stock (`None`: unlimited).
    pub quantity: Option<i32>,
    pub claimed: i32,
    pub max_claims: Option<i32>,
    pub claims_total: i32,
    pub reward_limit_reached: bool,
    pub event_limit_reached: bool,
    pub stock_gone: bool,
    pub cap_reached: bool,
    /// The stored `spec.requires` (`None`: no requirement).
    pub requires: Option<serde_json::Value>,
    /// `liveops_requirement_holds` (migration 0040) said no.
    pub requirements_unmet: bool,
}

/// The event's condition, evaluated for the user whatever the verdict (a
/// claim evaluates it only when nothing before it refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConditionCheck {
    /// The event has no condition.
    None,
    Met,
    NotMet,
    /// The stored condition does not parse or its time zone is unknown.
    Invalid,
}

/// What [`explain_claim`] found: the facts (`None` when no reward has this
/// id), the condition and the verdict a claim would get.
#[derive(Debug, Clone)]
pub struct ClaimExplanation {
    pub facts: Option<ClaimFacts>,
    pub condition: ConditionCheck,
    /// `None`: the claim would be granted.
    pub refusal: Option<ClaimRefusal>,
}

/// Explains a claim of `reward_id` by `user_id` at the database's `now()`.
/// Reads only; `Err` for database failures.
pub async fn explain_claim(db: &PgPool, user_id: Uuid, reward_id: Uuid) -> sqlx::Result<ClaimExplanation> {
    let facts = sqlx::query_file_as!(ClaimFacts, "src/claim/sql/explain.sql", reward_id, user_id)
        .fetch_optional(db)
        .await;
    let facts = match facts {
        Ok(Some(facts)) => facts,
        Ok(None) => return Ok(refused(None, ConditionCheck::None, ClaimRefusal::RewardNotFound)),
        // A Daily/Weekly period key in an unknown zone: the claim statement aborts the same way.
        Err(error) if is_invalid_time_zone(&error) => {
            let refusal = ClaimRefusal::EventNotActive(Some(InactiveReason::Invalid));
            return Ok(refused(None, ConditionCheck::Invalid, refusal));
        }
        Err(error) => return Err(error),
    };
    let condition = check_condition(db, user_id, &facts).await?;
    let refusal = flags(&facts).refusal().or(match condition {
        ConditionCheck::None | ConditionCheck::Met => None,
        ConditionCheck::NotMet => Some(ClaimRefusal::ConditionNotMet),
        ConditionCheck::Invalid => Some(ClaimRefusal::EventNotActive(Some(InactiveReason::Invalid))),
    });
    Ok(ClaimExplanation {
        facts: Some(facts),
        condition,
        refusal,
    })
}

fn refused(facts: Option<ClaimFacts>, condition: ConditionCheck, refusal: ClaimRefusal) -> ClaimExplanation {
    ClaimExplanation {
        facts,
        condition,
        refusal: Some(refusal),
    }
}

fn flags(facts: &ClaimFacts) -> Flags {
    // The claim statement computes the limits only for an open event; the
    // precedence in `Flags::refusal` makes the difference moot.
    Flags {
        reward_deleted: facts.reward_deleted,
        event_deleted: facts.event_deleted,
        invalid: facts.invalid,
        suspended: facts.suspended,
        in_window: facts.in_window,
        before_start: facts.before_start,
        reward_limit_reached: facts.reward_limit_reached,
        event_limit_reached: facts.event_limit_reached,
        stock_gone: facts.stock_gone,
        cap_reached: facts.cap_reached,
        requirements_unmet: facts.requirements_unmet,
    }
}

/// The condition as the claim evaluates it: `{}` is none, anything else is
/// parsed into a kind and judged by its own query.
async fn check_condition(db: &PgPool, user_id: Uuid, facts: &ClaimFacts) -> sqlx::Result<ConditionCheck> {
    if facts.condition == serde_json::json!({}) {
        return Ok(ConditionCheck::None);
    }
    let Some(kind) = condition_kind(facts.condition.clone()) else {
        return Ok(ConditionCheck::Invalid);
    };
    let claimant = Claimant {
        user_id,
        starts_at: facts.starts_at,
        ends_at: facts.ends_at,
        time_zone: facts.time_zone.clone(),
    };
    match conditions::is_met(kind, db, &claimant).await {
        Ok(true) => Ok(ConditionCheck::Met),
        Ok(false) => Ok(ConditionCheck::NotMet),
        Err(error) if is_invalid_time_zone(&error) => Ok(ConditionCheck::Invalid),
        Err(error) => Err(error),
    }
}
