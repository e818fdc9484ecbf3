//! Claiming a reward: the one-statement claim transaction (DESIGN.md,
//! "Claim transaction"), the condition kinds it evaluates, idempotent
//! retries, and the claim history that listings read.

pub mod admission;
pub mod conditions;
pub mod cursor;
pub mod failed_claim;
pub mod history;
pub mod idempotency;
pub mod outcome;
pub mod statement_errors;
pub mod transaction;

pub use outcome::{ClaimOutcome, ClaimRefusal, GrantedClaim, InactiveReason};
pub use transaction::claim_reward;

#[cfg(test)]
mod tests;
