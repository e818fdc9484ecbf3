//! The `Event` and `Reward` custom resources (group `liveops.dev`, version
//! `v1alpha1`): Rust types from which `crds/` is generated.
//!
//! Doc comments on fields become `kubectl explain` text, and the CEL rules
//! (`x-kubernetes-validations`) are the schema-side validation described in
//! DESIGN.md, "Custom resources". The operator re-checks a spec with
//! [`validation::event_spec_problems`], because in manifests mode no API
//! server enforces the schema, and mirrors the transition rules in
//! [`transition`].

pub mod event;
pub mod payload;
pub mod phase;
pub mod reward;
pub mod status_condition;
pub mod transition;
pub mod validation;

#[cfg(test)]
mod cel_tests;

pub use event::{ClaimPolicy, Event, EventSpec, EventStatus};
pub use payload::Payload;
pub use phase::EventPhase;
pub use reward::{EventRef, Reward, RewardSpec, RewardStatus};
pub use status_condition::{ConditionStatus, StatusCondition, set_condition};
pub use validation::SpecProblem;

/// API group of both kinds.
pub const GROUP: &str = "liveops.dev";
/// Served and stored version of both kinds.
pub const VERSION: &str = "v1alpha1";
