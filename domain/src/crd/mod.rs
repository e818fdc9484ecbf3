//! The `Event`, `Reward`, `WebhookEndpoint`, `Counter` and `IngestClient` custom resources (group
//! `liveops.dev`, version `v1alpha1`): Rust types from which `crds/` is
//! generated.
//!
//! Doc comments on fields become `kubectl explain` text, and the CEL rules
//! (`x-kubernetes-validations`) are the schema-side validation described in
//! DESIGN.md, "Custom resources". The operator re-checks a spec with
//! [`validation::event_spec_problems`] (and its siblings), because in manifests mode no API
//! server enforces the schema, and mirrors the transition rules in
//! [`transition`].

pub mod challenge_validation;
pub mod counter;
pub mod event;
pub mod event_window;
pub mod ingest_client;
pub mod payload;
pub mod phase;
pub mod requirement;
pub mod reward;
pub mod status_condition;
pub mod transition;
pub mod validation;
pub mod webhook_endpoint;

#[cfg(test)]
mod bounds_tests;
#[cfg(test)]
mod cel_tests;
#[cfg(test)]
mod challenge_cel_tests;
#[cfg(test)]
mod event_window_tests;
#[cfg(test)]
mod requirement_tests;
#[cfg(test)]
mod webhook_cel_tests;

pub use counter::{Counter, CounterAggregation, CounterSpec, CounterStatus};
pub use event::{ClaimPolicy, Event, EventSpec, EventStatus};
pub use ingest_client::{IngestClient, IngestClientSpec, IngestClientStatus};
pub use payload::Payload;
pub use phase::EventPhase;
pub use requirement::{ClaimedRequirement, CounterRequirement, CounterWindow, Requirement};
pub use reward::{EventRef, Reward, RewardSpec, RewardStatus};
pub use status_condition::{
    ConditionStatus, Health, READY, RECONCILING, STALLED, StatusCondition, find_condition, set_condition,
    set_health,
};
pub use validation::SpecProblem;
pub use webhook_endpoint::{
    SecretKeyRef, WebhookEndpoint, WebhookEndpointSpec, WebhookEndpointStatus, WebhookEventType,
};

/// API group of every kind.
pub const GROUP: &str = "liveops.dev";
/// Served and stored version of every kind.
pub const VERSION: &str = "v1alpha1";
