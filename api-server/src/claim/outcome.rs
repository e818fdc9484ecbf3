//! What a claim request ends in: a granted claim or a refusal, and whether
//! it was answered afresh or replayed from the ledger for an Idempotency-Key.

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use super::refusal::{ClaimRefusal, InactiveReason};

/// The answer of [`claim_reward`](super::claim_reward).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimAnswer {
    /// The claim, or why there is none.
    pub outcome: ClaimOutcome,
    /// True when an earlier request with the same Idempotency-Key decided
    /// this outcome and this request only read it back from the ledger.
    pub replayed: bool,
}

/// A claim granted, or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The claim row, the counters and the outbox row are committed.
    Granted(GrantedClaim),
    /// Nothing was granted.
    Refused(ClaimRefusal),
}

/// A successful claim as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedClaim {
    /// The claim row's id.
    pub claim_id: Uuid,
    /// The reward granted, with what the game needs to hand it out.
    pub reward: GrantedReward,
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

/// The granted reward as the game sees it (DESIGN.md, "Claims: integrity on
/// every path": the success answer carries what the game needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedReward {
    /// Reward id.
    pub id: Uuid,
    /// Object name of the Reward.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// The Reward's free-form `spec.payload` (item code etc.), if any.
    pub payload: Option<serde_json::Value>,
}
