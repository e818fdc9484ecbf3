//! Challenges (DESIGN.md, "Second stage", "Challenges"): what players must
//! have done to claim a reward and how far they are. The requirement itself
//! is judged inside the claim statement (`claim/sql/decide.sql`, via
//! migration 0040's `liveops_requirement_holds`); this module reads progress.

pub mod progress;

pub use progress::{EventProgress, Progress, RequirementProgress, RewardProgress, user_progress};

#[cfg(test)]
mod tests;
