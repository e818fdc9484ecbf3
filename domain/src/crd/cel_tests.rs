//! Each CEL rule (`x-kubernetes-validations`) of the CRDs, evaluated with
//! kube's `cel` feature as the API server would: one accepted and at least
//! one rejected case per rule.

use kube::core::cel::{validate_cel, validate_cel_update};
use serde_json::{Value, json};

use super::{Event, Reward, validation::event_spec_problems};

pub(super) fn event(spec: Value) -> Event {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "default"},
        "spec": spec,
    }))
    .expect("test Event parses")
}

fn reward(spec: Value) -> Reward {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1",
        "kind": "Reward",
        "metadata": {"name": "r", "namespace": "default"},
        "spec": spec,
    }))
    .expect("test Reward parses")
}

pub(super) fn week(extra: Value) -> Value {
    let mut spec = json!({
        "displayName": "Week",
        "startsAt": "2026-03-01T00:00:00Z",
        "endsAt": "2026-03-08T00:00:00Z",
    });
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    spec
}

/// Passes both the CEL rules and the operator's own checks, which must
/// never refuse what the API server admits.
pub(super) fn accepted(event: &Event) -> Result<(), String> {
    validate_cel(event).map_err(|errors| format!("CEL: {errors:?}"))?;
    match event_spec_problems(&event.spec).as_slice() {
        [] => Ok(()),
        problems => Err(format!("operator checks: {problems:?}")),
    }
}

/// Refused by the CEL rule whose message contains `needle`, and by the
/// operator's checks too (manifests mode has no API server).
pub(super) fn rejected_with(event: &Event, needle: &str) {
    assert!(
        !event_spec_problems(&event.spec).is_empty(),
        "the operator refuses it too"
    );
    let errors = validate_cel(event).expect_err("the rule rejects this spec");
    let text = format!("{errors:?}");
    assert!(text.contains(needle), "expected {needle:?} in {text}");
}

#[test]
fn a_plain_event_passes_every_rule() {
    accepted(&event(week(json!({})))).expect("valid");
}

#[test]
fn ends_at_must_be_after_starts_at() {
    rejected_with(
        &event(week(json!({"endsAt": "2026-03-01T00:00:00Z"}))),
        "endsAt must be after startsAt",
    );
    rejected_with(
        &event(week(json!({"endsAt": "2026-02-01T00:00:00Z"}))),
        "endsAt must be after startsAt",
    );
}

#[test]
fn a_login_streak_must_fit_inside_the_window() {
    accepted(&event(week(json!({"condition": {"loginStreak": {"days": 7}}})))).expect("7 days in 7");
    rejected_with(
        &event(week(json!({"condition": {"loginStreak": {"days": 8}}}))),
        "loginStreak.days does not fit",
    );
}

#[test]
fn a_streak_may_span_a_23_hour_dst_day() {
    // Seven local days around a spring-forward change are 167 hours.
    let spec = week(json!({
        "startsAt": "2026-03-07T05:00:00Z",
        "endsAt": "2026-03-14T04:00:00Z",
        "timeZone": "America/New_York",
        "condition": {"loginStreak": {"days": 7}},
    }));
    accepted(&event(spec)).expect("167 hours hold 7 local days");
}

#[test]
fn login_days_must_fit_inside_the_window() {
    accepted(&event(week(json!({"condition": {"loginDays": {"days": 3}}})))).expect("3 days in 7");
    rejected_with(
        &event(week(json!({"condition": {"loginDays": {"days": 30}}}))),
        "loginDays.days does not fit",
    );
}

#[test]
fn condition_sets_at_most_one_kind() {
    accepted(&event(week(json!({"condition": {"profileComplete": {}}})))).expect("one kind");
    accepted(&event(week(json!({"condition": {}})))).expect("no kind means none");
    rejected_with(
        &event(week(
            json!({"condition": {"loginDays": {"days": 2}, "referrals": {"count": 3}}}),
        )),
        "at most one kind",
    );
}

#[test]
fn condition_counts_are_at_least_one() {
    accepted(&event(week(json!({"condition": {"referrals": {"count": 1}}})))).expect("1 is enough");
    rejected_with(
        &event(week(json!({"condition": {"referrals": {"count": 0}}}))),
        "at least 1",
    );
    rejected_with(
        &event(week(json!({"condition": {"loginStreak": {"days": 0}}}))),
        "at least 1",
    );
    rejected_with(
        &event(week(json!({"condition": {"loginDays": {"days": 0}}}))),
        "at least 1",
    );
}

#[test]
fn max_claims_is_at_least_one() {
    accepted(&event(week(json!({"maxClaims": 1})))).expect("1 is allowed");
    rejected_with(
        &event(week(json!({"maxClaims": 0}))),
        "maxClaims must be at least 1",
    );
}

#[test]
fn max_rewards_per_user_is_at_least_one() {
    accepted(&event(week(json!({"claimPolicy": {"maxRewardsPerUser": 1}})))).expect("1 is allowed");
    accepted(&event(week(json!({"claimPolicy": {"frequency": "Daily"}})))).expect("absent = no limit");
    rejected_with(
        &event(week(json!({"claimPolicy": {"maxRewardsPerUser": 0}}))),
        "maxRewardsPerUser must be at least 1",
    );
}

#[test]
fn time_zone_looks_like_an_iana_name() {
    for zone in ["UTC", "Asia/Seoul", "America/Argentina/Buenos_Aires", "Etc/GMT+9"] {
        accepted(&event(week(json!({"timeZone": zone})))).unwrap_or_else(|e| panic!("{zone}: {e:?}"));
    }
    for zone in ["+09:00", "Asia/", "Asia Seoul", "/UTC"] {
        rejected_with(&event(week(json!({"timeZone": zone}))), "IANA zone name");
    }
}

fn prize(extra: Value) -> Value {
    let mut spec = json!({"eventRef": {"name": "e"}, "displayName": "Prize"});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    spec
}

#[test]
fn quantity_is_not_negative() {
    validate_cel(&reward(prize(json!({"quantity": 0})))).expect("zero stock is allowed");
    validate_cel(&reward(prize(json!({})))).expect("absent means unlimited");
    let errors = validate_cel(&reward(prize(json!({"quantity": -1})))).expect_err("negative stock");
    assert!(format!("{errors:?}").contains("quantity must not be negative"));
}

#[test]
fn per_user_limit_is_at_least_one() {
    validate_cel(&reward(prize(json!({"perUserLimit": 2})))).expect("2 is allowed");
    let errors = validate_cel(&reward(prize(json!({"perUserLimit": 0})))).expect_err("zero limit");
    assert!(format!("{errors:?}").contains("perUserLimit must be at least 1"));
}

#[test]
fn event_ref_is_immutable() {
    let old = reward(prize(json!({})));
    validate_cel_update(&reward(prize(json!({"quantity": 5}))), &old).expect("other fields may change");
    let moved = reward(prize(json!({"eventRef": {"name": "other"}})));
    let errors = validate_cel_update(&moved, &old).expect_err("eventRef changed");
    assert!(format!("{errors:?}").contains("eventRef is immutable"));
}

#[test]
fn free_form_payload_is_kept_whole() {
    let with_payload = reward(prize(
        json!({"payload": {"itemCode": "GOLD", "amount": 100, "tags": ["a"]}}),
    ));
    validate_cel(&with_payload).expect("payload is free-form");
    let back = serde_json::to_value(&with_payload).expect("serialises");
    assert_eq!(back["spec"]["payload"]["amount"], 100);
}

#[test]
fn whatever_the_streak_rule_admits_the_operator_accepts_across_dst() {
    // Windows of 1..=200 hours starting at local midnight just before New
    // York's spring-forward day: the CEL rule (a duration bound) must never
    // admit a window the operator's local-day count refuses.
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-06T05:00:00Z").expect("valid");
    for days in [1, 2, 7] {
        for hours in 1..=200 {
            let end = start + chrono::Duration::hours(hours);
            let spec = json!({
                "displayName": "w",
                "startsAt": start.to_rfc3339(),
                "endsAt": end.to_rfc3339(),
                "timeZone": "America/New_York",
                "condition": {"loginStreak": {"days": days}},
            });
            let candidate = event(spec);
            if validate_cel(&candidate).is_ok() {
                assert_eq!(
                    event_spec_problems(&candidate.spec),
                    [],
                    "{days} days in {hours} h"
                );
            }
        }
    }
}
