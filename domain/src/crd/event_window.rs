//! The Event's windows beyond [startsAt, endsAt): `announceAt`, `claimUntil`
//! and `claimPolicy.resetAt`, checked as the CRD's CEL rules check them
//! (manifests mode has no API server) and read into the values the
//! projection stores.

use chrono::NaiveTime;

use super::{EventSpec, validation::SpecProblem};
use crate::ClaimFrequency;

/// `claimPolicy.resetAt` as a local time of day; `None` unless it is
/// `HH:MM` with 00 <= HH <= 23 and 00 <= MM <= 59 (the CRD's pattern).
pub fn parse_reset_at(text: &str) -> Option<NaiveTime> {
    let digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    let (hours, minutes) = text.split_once(':')?;
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

/// The local time Daily and Weekly periods turn over at (midnight unless set).
pub fn reset_time(spec: &EventSpec) -> NaiveTime {
    spec.claim_policy
        .reset_at
        .as_deref()
        .and_then(parse_reset_at)
        .unwrap_or(NaiveTime::MIN)
}

/// Everything wrong with the spec's windows; empty when they are consistent.
pub fn window_problems(spec: &EventSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let mut push = |field: &str, message: &str| {
        problems.push(SpecProblem {
            field: field.to_owned(),
            message: message.to_owned(),
        })
    };
    if spec.announce_at.is_some_and(|at| at > spec.starts_at) {
        push("spec.announceAt", "announceAt must not be after startsAt");
    }
    if spec.claim_until.is_some_and(|at| at < spec.ends_at) {
        push("spec.claimUntil", "claimUntil must not be before endsAt");
    }
    if let Some(reset_at) = spec.claim_policy.reset_at.as_deref() {
        if parse_reset_at(reset_at).is_none() {
            push(
                "spec.claimPolicy.resetAt",
                "resetAt must be a local time HH:MM, 00:00 to 23:59",
            );
        } else if spec.claim_policy.frequency == ClaimFrequency::Once {
            push(
                "spec.claimPolicy.resetAt",
                "resetAt applies to Daily and Weekly claim periods only",
            );
        }
    }
    problems
}
