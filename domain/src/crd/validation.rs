//! The spec checks the operator applies itself, mirroring the CRDs' CEL rules
//! (manifests mode has no API server to enforce the schema) and adding the
//! ones CEL cannot express: the time zone exists, and a streak fits in the
//! window counted in the event's local days.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

use super::{
    EventSpec, RewardSpec, WebhookEndpointSpec,
    event::{MAX_CLAIMS, MAX_REWARDS_PER_USER},
    requirement::requirement_problems,
    reward::{MAX_PER_USER_LIMIT, MAX_QUANTITY},
};
use crate::{ConditionKind, condition::ConditionError};

/// One reason a spec is invalid: the field (a path under `spec`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecProblem {
    /// Path under `spec`, e.g. `spec.endsAt`.
    pub field: String,
    /// Human-readable reason.
    pub message: String,
}

impl std::fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

pub(super) fn problem(field: &str, message: impl Into<String>) -> SpecProblem {
    SpecProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Local calendar days (in `zone`) that `[spec.startsAt, spec.endsAt)` touches.
pub fn local_days_in_window(spec: &EventSpec, zone: Tz) -> i64 {
    if spec.ends_at <= spec.starts_at {
        return 0;
    }
    let first: NaiveDate = spec.starts_at.with_timezone(&zone).date_naive();
    let last: NaiveDate = (spec.ends_at - Duration::nanoseconds(1))
        .with_timezone(&zone)
        .date_naive();
    (last - first).num_days() + 1
}

/// Everything wrong with an Event spec; empty when it can be scheduled.
pub fn event_spec_problems(spec: &EventSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let zone = match spec.time_zone.parse::<Tz>() {
        Ok(zone) => Some(zone),
        Err(_) => {
            problems.push(problem(
                "spec.timeZone",
                format!("unknown IANA time zone {:?}", spec.time_zone),
            ));
            None
        }
    };
    let window_ok = spec.ends_at > spec.starts_at;
    if !window_ok {
        problems.push(problem("spec.endsAt", "endsAt must be after startsAt"));
    }
    if spec.max_claims.is_some_and(|max| max < 1) {
        problems.push(problem("spec.maxClaims", "maxClaims must be at least 1"));
    }
    if spec.max_claims.is_some_and(|max| max > MAX_CLAIMS) {
        problems.push(problem(
            "spec.maxClaims",
            format!("maxClaims must be at most {MAX_CLAIMS}"),
        ));
    }
    if spec.claim_policy.max_rewards_per_user.is_some_and(|max| max < 1) {
        problems.push(problem(
            "spec.claimPolicy.maxRewardsPerUser",
            "maxRewardsPerUser must be at least 1",
        ));
    }
    if spec
        .claim_policy
        .max_rewards_per_user
        .is_some_and(|max| max > MAX_REWARDS_PER_USER)
    {
        problems.push(problem(
            "spec.claimPolicy.maxRewardsPerUser",
            format!("maxRewardsPerUser must be at most {MAX_REWARDS_PER_USER}"),
        ));
    }
    let kind = spec.condition.clone().unwrap_or_default().kind();
    match kind {
        Err(ConditionError::SeveralKinds(n)) => problems.push(problem(
            "spec.condition",
            format!("condition must set at most one kind, found {n}"),
        )),
        Err(ConditionError::BelowOne(field)) => {
            problems.push(problem(&format!("spec.condition.{field}"), "must be at least 1"))
        }
        Err(ConditionError::AboveMax(field, max)) => problems.push(problem(
            &format!("spec.condition.{field}"),
            format!("must be at most {max}"),
        )),
        Ok(ConditionKind::LoginStreak { days }) | Ok(ConditionKind::LoginDays { days }) => {
            if let (Some(zone), true) = (zone, window_ok) {
                let available = local_days_in_window(spec, zone);
                if i64::from(days) > available {
                    let field = match kind {
                        Ok(ConditionKind::LoginStreak { .. }) => "spec.condition.loginStreak.days",
                        _ => "spec.condition.loginDays.days",
                    };
                    problems.push(problem(
                        field,
                        format!(
                            "{days} days do not fit inside the window, which spans {available} local days in {}",
                            spec.time_zone
                        ),
                    ));
                }
            }
        }
        Ok(_) => {}
    }
    problems.extend(super::event_window::window_problems(spec));
    problems
}

/// Everything wrong with a Reward spec; empty when it can be projected.
pub fn reward_spec_problems(spec: &RewardSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if spec.event_ref.name.is_empty() {
        problems.push(problem("spec.eventRef.name", "must not be empty"));
    }
    if spec.quantity.is_some_and(|q| q < 0) {
        problems.push(problem("spec.quantity", "quantity must not be negative"));
    }
    if spec.quantity.is_some_and(|q| q > MAX_QUANTITY) {
        problems.push(problem(
            "spec.quantity",
            format!("quantity must be at most {MAX_QUANTITY}"),
        ));
    }
    if spec.per_user_limit < 1 {
        problems.push(problem("spec.perUserLimit", "perUserLimit must be at least 1"));
    }
    if spec.per_user_limit > MAX_PER_USER_LIMIT {
        problems.push(problem(
            "spec.perUserLimit",
            format!("perUserLimit must be at most {MAX_PER_USER_LIMIT}"),
        ));
    }
    if spec.payload.as_ref().is_some_and(|payload| !payload.is_object()) {
        problems.push(problem("spec.payload", "payload must be an object"));
    }
    if let Some(requires) = &spec.requires {
        problems.extend(requirement_problems(requires));
    }
    problems
}

/// Everything wrong with a WebhookEndpoint spec (the CRD's CEL and OpenAPI
/// rules, for manifests mode); empty when it can be projected.
pub fn webhook_endpoint_spec_problems(spec: &WebhookEndpointSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if let Err(message) = check_webhook_url(&spec.url) {
        problems.push(problem("spec.url", message));
    }
    if spec.secret_ref.name.is_empty() {
        problems.push(problem("spec.secretRef.name", "must not be empty"));
    }
    if spec.secret_ref.key.is_empty() {
        problems.push(problem("spec.secretRef.key", "must not be empty"));
    }
    let mut types = spec.event_types.clone();
    types.sort();
    types.dedup();
    if types.len() != spec.event_types.len() {
        problems.push(problem("spec.eventTypes", "must not list a type twice"));
    }
    problems
}

/// The URL rule of the CRD: an absolute http(s) URL with a host, no
/// whitespace, at most 2048 characters.
fn check_webhook_url(url: &str) -> Result<(), &'static str> {
    const MESSAGE: &str = "url must be an absolute http:// or https:// URL without spaces";
    if url.len() < 8 || url.len() > 2048 {
        return Err("url must be 8 to 2048 characters long");
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or(MESSAGE)?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_end == 0 || url.chars().any(char::is_whitespace) {
        return Err(MESSAGE);
    }
    Ok(())
}
