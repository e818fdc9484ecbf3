//! What a claim attempt ends in: a granted claim or a business refusal
//! with its stable reason code (the `reason` column of failed claims).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The answer of [`claim_reward`](super::claim_reward).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The claim row, the counters and the outbox row are committed.
    Granted(GrantedClaim),
    /// Nothing was granted; a `failed` claim row records why.
    Refused {
        /// Why the claim was refused.
        refusal: ClaimRefusal,
        /// The `failed` claim row written after the refusal.
        failed_claim_id: Uuid,
    },
}

/// A successful claim as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedClaim {
    /// The claim row's id.
    pub claim_id: Uuid,
    /// The reward granted.
    pub reward_id: Uuid,
    /// The reward's event.
    pub event_id: Uuid,
    /// `once`, a local date (Daily) or an ISO week (Weekly).
    pub period_key: String,
    /// Which of the reward's `perUserLimit` grants in this period this is.
    pub slot: i32,
    /// The Event generation whose rules granted the claim.
    pub event_generation: i64,
    /// Database time of the claim.
    pub created_at: DateTime<Utc>,
}

/// Why the event is not open for claims at this instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveReason {
    /// `now()` is before `startsAt`.
    Scheduled,
    /// `now()` is at or after `endsAt`.
    Ended,
    /// `spec.suspend` is set.
    Suspended,
    /// The Event (or the reward) was deleted.
    Deleted,
    /// The operator marked the spec invalid, or the stored condition does
    /// not parse.
    Invalid,
}

impl InactiveReason {
    /// Lowercase word used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Ended => "ended",
            Self::Suspended => "suspended",
            Self::Deleted => "deleted",
            Self::Invalid => "invalid",
        }
    }
}

/// A business refusal. Each one is recorded as a `failed` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// No reward with this id.
    RewardNotFound,
    /// The event is not open at the database's `now()`.
    EventNotActive(InactiveReason),
    /// The user does not meet the event's condition.
    ConditionNotMet,
    /// The user has used every grant (`perUserLimit`) of this period.
    AlreadyClaimed,
    /// The reward's stock is gone (`event_cap` false) or the event's
    /// `maxClaims` is reached (`event_cap` true).
    SoldOut {
        /// Whether the event-wide cap rather than the reward's stock ran out.
        event_cap: bool,
    },
}

impl ClaimRefusal {
    /// Stable machine code: the API's problem `code` and the failed claim's
    /// `reason`.
    pub fn code(self) -> &'static str {
        match self {
            Self::RewardNotFound => "REWARD_NOT_FOUND",
            Self::EventNotActive(_) => "EVENT_NOT_ACTIVE",
            Self::ConditionNotMet => "CONDITION_NOT_MET",
            Self::AlreadyClaimed => "ALREADY_CLAIMED",
            Self::SoldOut { .. } => "SOLD_OUT",
        }
    }

    /// Human-readable detail for the client.
    pub fn message(self) -> String {
        match self {
            Self::RewardNotFound => "no reward with this id".to_owned(),
            Self::EventNotActive(reason) => format!("the event is not active ({})", reason.as_str()),
            Self::ConditionNotMet => "the event's condition is not met".to_owned(),
            Self::AlreadyClaimed => "this reward was already claimed for the current period".to_owned(),
            Self::SoldOut { event_cap: false } => "the reward is sold out".to_owned(),
            Self::SoldOut { event_cap: true } => {
                "the event has reached its maximum number of claims".to_owned()
            }
        }
    }
}
