//! Where an Event stands in time: the `status.phase` enum, also stored in
//! `events.phase`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Lifecycle phase of an Event, as computed by the operator from its spec
/// and the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, sqlx::Type)]
#[sqlx(type_name = "event_phase")]
pub enum EventPhase {
    /// Before `startsAt`.
    Scheduled,
    /// Inside `[startsAt, endsAt)`: rewards may be claimed.
    Active,
    /// At or after `endsAt`.
    Ended,
    /// `spec.suspend` is true and the event has not ended: claims are paused.
    Suspended,
    /// The spec cannot be scheduled (unknown time zone, empty window, a
    /// streak longer than the window, ...); see the Ready condition.
    Invalid,
}

impl EventPhase {
    /// The name as written in YAML, the database enum and printer columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Active => "Active",
            Self::Ended => "Ended",
            Self::Suspended => "Suspended",
            Self::Invalid => "Invalid",
        }
    }
}

impl std::fmt::Display for EventPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
