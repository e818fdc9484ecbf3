//! The claim statement (`sql/decide.sql`) and the one [`Decision`] it
//! comes to. Everything about a claim attempt is decided by the database in
//! that statement, at its `now()`, so a claim is one round trip (two more,
//! once per event generation, for a condition evaluated by its own query).

use liveops_domain::{ConditionKind, ConditionSpec};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    conditions::Claimant,
    outcome::{GrantedClaim, GrantedReward},
    refusal::{ClaimRefusal, InactiveReason},
    statement_errors::{abort_reason, is_invalid_time_zone},
};

/// What one run of the claim statement decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Granted and committed.
    Granted(GrantedClaim),
    /// Refused; nothing was written.
    Refused(ClaimRefusal),
    /// Refused by a limit or the stock, and already recorded in the ledger
    /// by the statement itself (its `refusal_recorded`).
    Recorded(ClaimRefusal),
    /// The Idempotency-Key was answered before with this ledger row.
    Answered {
        /// The claim row (a grant or a recorded refusal).
        claim_id: Uuid,
    },
    /// The event's condition must be evaluated first; run the statement
    /// again with `generation` once it is met.
    CheckCondition {
        /// The condition to evaluate.
        kind: ConditionKind,
        /// Who claims, and the window the condition is judged in.
        claimant: Claimant,
        /// The event generation the evaluation is valid for.
        generation: i64,
    },
    /// A concurrent request took the slot, the rank or the key between the
    /// statement's snapshot and its insert: run the statement again.
    Retry,
}

/// The inputs of one run of the claim statement.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The claiming user.
    pub user_id: Uuid,
    /// The reward claimed.
    pub reward_id: Uuid,
    /// Generation of the event whose condition the user was found to meet.
    pub verified_generation: Option<i64>,
    /// The request's Idempotency-Key.
    pub key: Option<&'a str>,
    /// How long a key answers, in seconds.
    pub key_ttl_seconds: f64,
}

/// Runs the claim statement once. `Err` only for database failures; the
/// statement's deliberate aborts are decisions.
pub async fn decide(db: &PgPool, attempt: Attempt<'_>) -> sqlx::Result<Decision> {
    let row = sqlx::query_file!(
        "src/claim/sql/decide.sql",
        attempt.reward_id,
        attempt.user_id,
        attempt.verified_generation,
        attempt.key,
        Uuid::new_v4(),
        attempt.key_ttl_seconds,
    )
    .fetch_one(db)
    .await;
    let row = match row {
        Ok(row) => row,
        Err(error) => return decision_from_abort(error),
    };
    if let (Some(prior_reward), Some(claim_id)) = (row.prior_reward_id, row.prior_claim_id) {
        return Ok(if prior_reward == attempt.reward_id {
            Decision::Answered { claim_id }
        } else {
            Decision::Refused(ClaimRefusal::IdempotencyKeyReused)
        });
    }
    if !row.found {
        return Ok(Decision::Refused(ClaimRefusal::RewardNotFound));
    }
    let flags = Flags {
        reward_deleted: row.reward_deleted == Some(true),
        event_deleted: row.event_deleted == Some(true),
        invalid: row.invalid == Some(true),
        suspended: row.suspended == Some(true),
        in_window: row.in_window == Some(true),
        before_start: row.before_start == Some(true),
        reward_limit_reached: row.reward_limit_reached == Some(true),
        event_limit_reached: row.event_limit_reached == Some(true),
        stock_gone: row.stock_gone == Some(true),
        cap_reached: row.cap_reached == Some(true),
        requirements_unmet: row.requirements_unmet == Some(true),
    };
    if let Some(refusal) = flags.refusal() {
        return Ok(match row.recorded_refusal {
            Some(reason) if reason == refusal.code() => Decision::Recorded(refusal),
            _ => Decision::Refused(refusal),
        });
    }
    if row.condition_pending == Some(true) {
        let (Some(condition), Some(generation), Some(time_zone), Some(starts_at), Some(ends_at)) = (
            row.condition,
            row.generation,
            row.time_zone,
            row.starts_at,
            row.ends_at,
        ) else {
            return Err(incomplete());
        };
        let Some(kind) = condition_kind(condition) else {
            return Ok(Decision::Refused(ClaimRefusal::EventNotActive(Some(
                InactiveReason::Invalid,
            ))));
        };
        let claimant = Claimant {
            user_id: attempt.user_id,
            starts_at,
            ends_at,
            time_zone,
        };
        return Ok(Decision::CheckCondition {
            kind,
            claimant,
            generation,
        });
    }
    let (Some(claim_id), Some(created_at)) = (row.claim_id, row.created_at) else {
        return Ok(Decision::Retry);
    };
    let (
        Some(event_id),
        Some(period_key),
        Some(slot),
        Some(event_generation),
        Some(name),
        Some(display_name),
    ) = (
        row.event_id,
        row.period_key,
        row.slot,
        row.generation,
        row.reward_name,
        row.reward_display_name,
    )
    else {
        return Err(incomplete());
    };
    Ok(Decision::Granted(GrantedClaim {
        claim_id,
        reward: GrantedReward {
            id: attempt.reward_id,
            name,
            display_name,
            payload: row.payload,
        },
        event_id,
        period_key,
        slot,
        event_generation,
        created_at,
    }))
}

/// The statement's refusal flags, read in the order of precedence (also
/// by [`super::explain`], which reads the same flags without claiming).
pub(super) struct Flags {
    pub reward_deleted: bool,
    pub event_deleted: bool,
    pub invalid: bool,
    pub suspended: bool,
    pub in_window: bool,
    pub before_start: bool,
    pub reward_limit_reached: bool,
    pub event_limit_reached: bool,
    pub stock_gone: bool,
    pub cap_reached: bool,
    pub requirements_unmet: bool,
}

impl Flags {
    /// The first refusal that applies, if any: a deleted reward (unless its
    /// event went with it), the event not open, then a limit already reached
    /// (before any condition is evaluated), then no stock left, then the
    /// reward's requirements (the event's condition comes after all these).
    pub fn refusal(&self) -> Option<ClaimRefusal> {
        if self.reward_deleted && !self.event_deleted {
            return Some(ClaimRefusal::RewardNotFound);
        }
        let inactive = if self.event_deleted {
            Some(InactiveReason::Deleted)
        } else if self.invalid {
            Some(InactiveReason::Invalid)
        } else if self.suspended {
            Some(InactiveReason::Suspended)
        } else if !self.in_window {
            Some(if self.before_start {
                InactiveReason::Scheduled
            } else {
                InactiveReason::Ended
            })
        } else {
            None
        };
        if let Some(reason) = inactive {
            return Some(ClaimRefusal::EventNotActive(Some(reason)));
        }
        if self.reward_limit_reached || self.event_limit_reached {
            return Some(ClaimRefusal::AlreadyClaimed {
                event_limit: !self.reward_limit_reached,
            });
        }
        if self.stock_gone || self.cap_reached {
            return Some(ClaimRefusal::SoldOut {
                event_cap: !self.stock_gone,
            });
        }
        if self.requirements_unmet {
            return Some(ClaimRefusal::RequirementsNotMet);
        }
        None
    }
}

/// The kind of a stored condition; `None` when it does not parse (the
/// claim is refused as Invalid).
pub(super) fn condition_kind(condition: serde_json::Value) -> Option<ConditionKind> {
    serde_json::from_value::<ConditionSpec>(condition)
        .ok()
        .and_then(|spec| spec.kind().ok())
}

/// Reads the statement's deliberate aborts as decisions; other errors pass.
fn decision_from_abort(error: sqlx::Error) -> sqlx::Result<Decision> {
    if is_invalid_time_zone(&error) {
        return Ok(Decision::Refused(ClaimRefusal::EventNotActive(Some(
            InactiveReason::Invalid,
        ))));
    }
    match abort_reason(&error).as_deref() {
        Some("SOLD_OUT") => Ok(Decision::Refused(ClaimRefusal::SoldOut { event_cap: false })),
        Some("MAX_CLAIMS_REACHED") => Ok(Decision::Refused(ClaimRefusal::SoldOut { event_cap: true })),
        // a concurrent request took the key, or the event gained or lost
        // its cap after the statement read it (migration 0036)
        Some("KEY_TAKEN" | "CAP_CHANGED") => Ok(Decision::Retry),
        _ => Err(error),
    }
}

fn incomplete() -> sqlx::Error {
    sqlx::Error::Protocol("claim statement returned an incomplete row".into())
}
