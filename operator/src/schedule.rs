//! Phase from time: pure functions over an Event spec and an instant.
//!
//! The window is half-open, `[startsAt, endsAt)`: at exactly `startsAt` an
//! event is Active, at exactly `endsAt` it is Ended, matching the claim
//! transaction's check on the database clock (DESIGN.md, "Claim transaction").

use chrono::{DateTime, Utc};
use liveops_domain::crd::{EventPhase, EventSpec, SpecProblem, validation::event_spec_problems};

/// Where an Event stands at one instant, and when that changes next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Phase at the instant asked about.
    pub phase: EventPhase,
    /// The next instant the phase changes; `None` when nothing is ahead
    /// (Ended, or Invalid until the spec changes).
    pub next_transition_at: Option<DateTime<Utc>>,
    /// Why the spec is Invalid; empty otherwise.
    pub problems: Vec<SpecProblem>,
}

/// The phase of an Event with `spec` at `now`, and its next boundary.
///
/// Precedence: an invalid spec is Invalid; a past window is Ended even when
/// suspended; `suspend` turns Scheduled and Active into Suspended, which
/// still ends at `endsAt`.
pub fn schedule_at(spec: &EventSpec, now: DateTime<Utc>) -> Schedule {
    let problems = event_spec_problems(spec);
    if !problems.is_empty() {
        return Schedule {
            phase: EventPhase::Invalid,
            next_transition_at: None,
            problems,
        };
    }
    let (phase, next_transition_at) = if now >= spec.ends_at {
        (EventPhase::Ended, None)
    } else if spec.suspend {
        (EventPhase::Suspended, Some(spec.ends_at))
    } else if now < spec.starts_at {
        (EventPhase::Scheduled, Some(spec.starts_at))
    } else {
        (EventPhase::Active, Some(spec.ends_at))
    };
    Schedule {
        phase,
        next_transition_at,
        problems,
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
