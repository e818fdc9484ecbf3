//! Claiming a reward: the claim statement and the one decision it comes to
//! (DESIGN.md, "Claim transaction" and "Claims: integrity on every path"),
//! the refusals and their ledger rows, idempotent retries answered from the
//! ledger, the condition kinds, the claim history that listings read, and
//! the explanation of a claim without making it (`kubectl liveops explain-claim`).

pub mod admission;
pub mod answer;
pub mod conditions;
pub mod cursor;
pub mod decision;
pub mod event_totals;
pub mod explain;
pub mod history;
pub mod idempotency;
pub mod outcome;
pub mod refusal;
pub mod statement_errors;
pub mod transaction;

pub use explain::{ClaimExplanation, ConditionCheck, explain_claim};
pub use outcome::{ClaimAnswer, ClaimOutcome, GrantedClaim, GrantedReward};
pub use refusal::{ClaimRefusal, InactiveReason};
pub use transaction::{ClaimRequest, claim_reward};

#[cfg(test)]
pub(crate) mod tests;
