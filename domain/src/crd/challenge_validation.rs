//! The Counter and IngestClient checks the operator applies itself,
//! mirroring their CRDs' CEL and OpenAPI rules (manifests mode has no API
//! server), and their transition rules (`oldSelf`).

use std::collections::BTreeSet;

use super::{
    CounterAggregation, CounterSpec, IngestClientSpec, SpecProblem,
    counter::MAX_SAFE_AMOUNT,
    ingest_client::{MAX_FED_COUNTERS, MAX_SIGNALS_PER_MINUTE, secret_digest},
    transition::EVENT_REF_IMMUTABLE,
    validation::problem,
};

/// Message of the `aggregation` rule (`self == oldSelf`) on Counter.
pub const AGGREGATION_IMMUTABLE: &str = "aggregation is immutable";

/// Everything wrong with a Counter spec; empty when it can be projected.
pub fn counter_spec_problems(spec: &CounterSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if spec.event_ref.name.is_empty() {
        problems.push(problem("spec.eventRef.name", "must not be empty"));
    }
    if spec.display_name.is_empty() || spec.display_name.chars().count() > 200 {
        problems.push(problem("spec.displayName", "must be 1 to 200 characters long"));
    }
    if spec.description.chars().count() > 2000 {
        problems.push(problem(
            "spec.description",
            "must be at most 2000 characters long",
        ));
    }
    for (field, amount) in [
        ("spec.minAmount", spec.min_amount),
        ("spec.maxAmount", spec.max_amount),
    ] {
        if amount.is_some_and(|amount| !(-MAX_SAFE_AMOUNT..=MAX_SAFE_AMOUNT).contains(&amount)) {
            problems.push(problem(field, format!("must be within ±{MAX_SAFE_AMOUNT}")));
        }
    }
    if let (Some(min), Some(max)) = (spec.min_amount, spec.max_amount)
        && min > max
    {
        problems.push(problem("spec.minAmount", "minAmount must not exceed maxAmount"));
    }
    if spec.aggregation == CounterAggregation::DistinctDays
        && (spec.min_amount.is_some() || spec.max_amount.is_some())
    {
        problems.push(problem(
            "spec.aggregation",
            "a DistinctDays counter takes no minAmount or maxAmount",
        ));
    }
    problems
}

/// Everything wrong with an IngestClient spec; empty when it can be projected.
pub fn ingest_client_spec_problems(spec: &IngestClientSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if !(1..=2).contains(&spec.secret_hashes.len()) {
        problems.push(problem("spec.secretHashes", "must list 1 or 2 hashes"));
    }
    if spec
        .secret_hashes
        .iter()
        .any(|entry| secret_digest(entry).is_none())
    {
        problems.push(problem(
            "spec.secretHashes",
            "each secretHashes entry must be sha256:<64 lowercase hex digits>",
        ));
    }
    if spec.counters.is_empty() || spec.counters.len() > MAX_FED_COUNTERS {
        problems.push(problem(
            "spec.counters",
            format!("must list 1 to {MAX_FED_COUNTERS} counters"),
        ));
    }
    if spec
        .counters
        .iter()
        .any(|name| name.is_empty() || name.len() > 253)
    {
        problems.push(problem("spec.counters", "names must be 1 to 253 characters long"));
    }
    let unique: BTreeSet<&String> = spec.counters.iter().collect();
    if unique.len() != spec.counters.len() {
        problems.push(problem("spec.counters", "counters must not list a name twice"));
    }
    if !(1..=MAX_SIGNALS_PER_MINUTE).contains(&spec.signals_per_minute) {
        problems.push(problem(
            "spec.signalsPerMinute",
            format!("signalsPerMinute must be 1 to {MAX_SIGNALS_PER_MINUTE}"),
        ));
    }
    problems
}

/// Transition rules a Counter edit breaks; empty when the edit is allowed.
pub fn counter_transition_problems(old: &CounterSpec, new: &CounterSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if old.event_ref != new.event_ref {
        problems.push(problem(
            "spec.eventRef",
            format!(
                "{EVENT_REF_IMMUTABLE}: this counter counts under Event {:?}, not {:?}; \
                 create a Counter with a new name instead",
                old.event_ref.name, new.event_ref.name
            ),
        ));
    }
    if old.aggregation != new.aggregation {
        problems.push(problem(
            "spec.aggregation",
            format!(
                "{AGGREGATION_IMMUTABLE}: the values already counted are {}",
                old.aggregation.as_str()
            ),
        ));
    }
    problems
}
