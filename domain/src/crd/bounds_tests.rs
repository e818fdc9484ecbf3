//! The schema's `maximum` on each count and the operator's own checks
//! (manifests mode has no API server) agree: the bound is admitted, one
//! more is refused by both, with a message naming the field.

use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::{
    Event, Reward,
    event::{MAX_CLAIMS, MAX_REWARDS_PER_USER},
    reward::{MAX_PER_USER_LIMIT, MAX_QUANTITY},
    validation::{event_spec_problems, reward_spec_problems},
};
use crate::condition::{MAX_DAYS, MAX_REFERRALS};

/// A bounded field: its schema path under `spec`, its bound, a spec setting
/// it to a value, and its name in problems.
type Bounded = (&'static [&'static str], i32, fn(i32) -> Value, &'static str);

/// The schema node at `path` (property names) under `spec`.
fn spec_property(crd: &Value, path: &[&str]) -> Value {
    let mut node = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    for name in path {
        node = &node["properties"][name];
    }
    node.clone()
}

fn event_problems(extra: Value) -> Vec<String> {
    let mut spec =
        json!({"displayName": "Year", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2027-01-02T00:00:00Z"});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    let event: Event = serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event", "metadata": {"name": "e"}, "spec": spec,
    }))
    .expect("parses");
    event_spec_problems(&event.spec)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn reward_problems(extra: Value) -> Vec<String> {
    let mut spec = json!({"eventRef": {"name": "e"}, "displayName": "Gems"});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    let reward: Reward = serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Reward", "metadata": {"name": "r"}, "spec": spec,
    }))
    .expect("parses");
    reward_spec_problems(&reward.spec)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn event_counts_are_bounded_in_the_schema_and_the_operator() {
    let crd = serde_json::to_value(Event::crd()).expect("CRD as JSON");
    let cases: [Bounded; 5] = [
        (
            &["maxClaims"],
            MAX_CLAIMS,
            |n| json!({"maxClaims": n}),
            "spec.maxClaims",
        ),
        (
            &["claimPolicy", "maxRewardsPerUser"],
            MAX_REWARDS_PER_USER,
            |n| json!({"claimPolicy": {"maxRewardsPerUser": n}}),
            "spec.claimPolicy.maxRewardsPerUser",
        ),
        (
            &["condition", "loginStreak", "days"],
            MAX_DAYS,
            |n| json!({"condition": {"loginStreak": {"days": n}}}),
            "spec.condition.loginStreak.days",
        ),
        (
            &["condition", "loginDays", "days"],
            MAX_DAYS,
            |n| json!({"condition": {"loginDays": {"days": n}}}),
            "spec.condition.loginDays.days",
        ),
        (
            &["condition", "referrals", "count"],
            MAX_REFERRALS,
            |n| json!({"condition": {"referrals": {"count": n}}}),
            "spec.condition.referrals.count",
        ),
    ];
    for (path, max, spec, field) in cases {
        let schema = spec_property(&crd, path);
        assert_eq!(
            (schema["maximum"].as_f64(), schema["format"].as_str()),
            (Some(f64::from(max)), Some("int32")),
            "{field}"
        );
        assert_eq!(
            event_problems(spec(max)),
            Vec::<String>::new(),
            "{field} at its bound"
        );
        let refused = event_problems(spec(max + 1));
        assert!(
            refused
                .iter()
                .any(|p| p.starts_with(field) && p.contains(&format!("at most {max}"))),
            "{field}: {refused:?}"
        );
    }
}

#[test]
fn reward_counts_are_bounded_in_the_schema_and_the_operator() {
    let crd = serde_json::to_value(Reward::crd()).expect("CRD as JSON");
    let cases: [(&str, i32); 2] = [("quantity", MAX_QUANTITY), ("perUserLimit", MAX_PER_USER_LIMIT)];
    for (field, max) in cases {
        let schema = spec_property(&crd, &[field]);
        assert_eq!(
            (schema["maximum"].as_f64(), schema["format"].as_str()),
            (Some(f64::from(max)), Some("int32")),
            "{field}"
        );
        assert_eq!(
            reward_problems(json!({field: max})),
            Vec::<String>::new(),
            "{field} at its bound"
        );
        let refused = reward_problems(json!({field: max + 1}));
        assert_eq!(refused, [format!("spec.{field}: {field} must be at most {max}")]);
    }
}
