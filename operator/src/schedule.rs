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
    /// When claims close, while that is still ahead and differs from the
    /// window's end: `claimUntil`, the grace window after endsAt in which
    /// claims still work. The operator wakes then to say claims closed.
    pub claims_close_at: Option<DateTime<Utc>>,
    /// Why the spec is Invalid; empty otherwise.
    pub problems: Vec<SpecProblem>,
}

impl Schedule {
    /// The next instant the status changes: a phase boundary, or the end of
    /// the grace window.
    pub fn wake_at(&self) -> Option<DateTime<Utc>> {
        self.next_transition_at.or(self.claims_close_at)
    }
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
            claims_close_at: None,
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
    let claims_close_at = spec
        .claim_until
        .filter(|until| *until > spec.ends_at && now < *until);
    Schedule {
        phase,
        next_transition_at,
        claims_close_at,
        problems,
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
