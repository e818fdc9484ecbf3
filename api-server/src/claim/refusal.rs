//! Claim refusals: each one's stable code and message, and its ledger row.
//! The one place a refusal is described; `http/error.rs` only picks the
//! HTTP status for it.

use sqlx::PgPool;
use uuid::Uuid;

/// Why the event is not open for claims at this instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveReason {
    /// `now()` is before `startsAt`.
    Scheduled,
    /// `now()` is at or after `endsAt`.
    Ended,
    /// `spec.suspend` is set.
    Suspended,
    /// The Event was deleted.
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

/// A refused claim, in the precedence the claim statement decides them:
/// unknown reward, event not open, a limit already reached, no stock, the
/// reward's requirements not met, the event's condition not met (DESIGN.md, "Refusal precedence").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// No reward with this id (or it was deleted).
    RewardNotFound,
    /// The event is not open at the database's `now()`; `None` when the
    /// refusal is read back from the ledger, which keeps only the code.
    EventNotActive(Option<InactiveReason>),
    /// The user has used every grant of this reward in this period
    /// (`perUserLimit`, `event_limit` false), or has taken as many distinct
    /// rewards of the event as `claimPolicy.maxRewardsPerUser` allows
    /// (`event_limit` true).
    AlreadyClaimed {
        /// Whether the event-wide limit rather than the reward's was reached.
        event_limit: bool,
    },
    /// The reward's stock is gone (`event_cap` false) or the event's
    /// `maxClaims` is reached (`event_cap` true).
    SoldOut {
        /// Whether the event-wide cap rather than the reward's stock ran out.
        event_cap: bool,
    },
    /// The user does not meet the reward's `spec.requires` (counters not
    /// reached, a prerequisite reward not claimed).
    RequirementsNotMet,
    /// The user does not meet the event's condition.
    ConditionNotMet,
    /// The Idempotency-Key was first used to claim another reward.
    IdempotencyKeyReused,
}

impl ClaimRefusal {
    /// Stable machine code: the API's problem `code` and the ledger's `reason`.
    pub fn code(self) -> &'static str {
        match self {
            Self::RewardNotFound => "REWARD_NOT_FOUND",
            Self::EventNotActive(_) => "EVENT_NOT_ACTIVE",
            Self::AlreadyClaimed { .. } => "ALREADY_CLAIMED",
            Self::SoldOut { .. } => "SOLD_OUT",
            Self::RequirementsNotMet => "REQUIREMENTS_NOT_MET",
            Self::ConditionNotMet => "CONDITION_NOT_MET",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
        }
    }

    /// The refusal a ledger `reason` records, for answering a retry.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "REWARD_NOT_FOUND" => Self::RewardNotFound,
            "EVENT_NOT_ACTIVE" => Self::EventNotActive(None),
            "ALREADY_CLAIMED" => Self::AlreadyClaimed { event_limit: false },
            "SOLD_OUT" => Self::SoldOut { event_cap: false },
            "REQUIREMENTS_NOT_MET" => Self::RequirementsNotMet,
            "CONDITION_NOT_MET" => Self::ConditionNotMet,
            _ => return None,
        })
    }

    /// Human-readable detail for the client.
    pub fn message(self) -> String {
        match self {
            Self::RewardNotFound => "no reward with this id".to_owned(),
            Self::EventNotActive(Some(reason)) => format!("the event is not active ({})", reason.as_str()),
            Self::EventNotActive(None) => "the event is not active".to_owned(),
            Self::AlreadyClaimed { event_limit: false } => {
                "this reward was already claimed as often as allowed for the current period".to_owned()
            }
            Self::AlreadyClaimed { event_limit: true } => {
                "you have taken as many of this event's rewards as it allows for the current period"
                    .to_owned()
            }
            Self::SoldOut { event_cap: false } => "the reward is sold out".to_owned(),
            Self::SoldOut { event_cap: true } => {
                "the event has reached its maximum number of claims".to_owned()
            }
            Self::RequirementsNotMet => "the reward's requirements are not met".to_owned(),
            Self::ConditionNotMet => "the event's condition is not met".to_owned(),
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was used to claim another reward; use a new key".to_owned()
            }
        }
    }

    /// Whether the refusal gets a `failed` row in the ledger. Misuse of a
    /// key is a client bug, not a claim attempt; an unknown reward id is
    /// skipped by the recording statement itself.
    fn is_recorded(self) -> bool {
        !matches!(self, Self::IdempotencyKeyReused)
    }
}

/// Records `refusal` as a `failed` claim, after the claim statement decided
/// and wrote nothing (the seed's saveFailedClaim), and makes `key` answer it
/// from now on. Identical refusals within an hour share one counted row
/// (see `sql/record_refusal.sql`).
pub async fn record_refusal(
    db: &PgPool,
    user_id: Uuid,
    reward_id: Uuid,
    refusal: ClaimRefusal,
    key: Option<&str>,
    key_ttl_seconds: f64,
) -> sqlx::Result<()> {
    if !refusal.is_recorded() {
        return Ok(());
    }
    sqlx::query_file_scalar!(
        "src/claim/sql/record_refusal.sql",
        user_id,
        reward_id,
        refusal.code(),
        key,
        key_ttl_seconds,
    )
    .fetch_one(db)
    .await?;
    Ok(())
}
