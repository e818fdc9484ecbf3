//! The CRDs' transition rules (CEL rules that read `oldSelf`) mirrored in
//! Rust, so manifests mode refuses the same edits an API server would: in a
//! cluster these rules reject an update outright; a manifests directory has
//! no API server, so the operator checks an edit against the last accepted
//! spec itself and keeps that spec in force when a rule is broken.

use super::{EventSpec, RewardSpec, SpecProblem};

/// Messages of every transition rule of both CRDs, as the CEL rules carry
/// them. A test walks the generated schemas and fails when a rule that
/// reads `oldSelf` is missing here, so a new rule cannot go unmirrored.
pub const TRANSITION_RULE_MESSAGES: &[&str] = &[EVENT_REF_IMMUTABLE];

/// Message of the `eventRef` rule (`self == oldSelf`) on Reward.
pub const EVENT_REF_IMMUTABLE: &str = "eventRef is immutable";

/// Transition rules an Event edit breaks; empty when the edit is allowed.
/// (The Event CRD has none today; the hook keeps both kinds on one path.)
pub fn event_transition_problems(_old: &EventSpec, _new: &EventSpec) -> Vec<SpecProblem> {
    Vec::new()
}

/// Transition rules a Reward edit breaks; empty when the edit is allowed.
pub fn reward_transition_problems(old: &RewardSpec, new: &RewardSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if old.event_ref != new.event_ref {
        // Claims already made belong to the old event (RewardSpec.eventRef).
        problems.push(SpecProblem {
            field: "spec.eventRef".to_owned(),
            message: format!(
                "{EVENT_REF_IMMUTABLE}: this reward belongs to Event {:?}, not {:?}; \
                 to hand a reward out under another event, create a Reward with a new name",
                old.event_ref.name, new.event_ref.name
            ),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use kube::{CustomResourceExt, core::cel::validate_cel_update};
    use serde_json::{Value, json};

    use super::*;
    use crate::crd::{Event, Reward};

    fn reward_spec(event: &str, quantity: i32) -> RewardSpec {
        serde_json::from_value(json!({
            "eventRef": {"name": event}, "displayName": "Prize", "quantity": quantity,
        }))
        .expect("RewardSpec")
    }

    fn reward(spec: &RewardSpec) -> Reward {
        Reward::new("r", spec.clone())
    }

    /// Messages of every `x-kubernetes-validations` rule that reads `oldSelf`.
    fn transition_messages(schema: &Value, found: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                    for rule in rules {
                        if rule["rule"].as_str().is_some_and(|r| r.contains("oldSelf")) {
                            found.push(rule["message"].as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
                map.values().for_each(|value| transition_messages(value, found));
            }
            Value::Array(items) => items.iter().for_each(|value| transition_messages(value, found)),
            _ => {}
        }
    }

    #[test]
    fn every_transition_rule_of_the_crds_is_mirrored() {
        let mut found = Vec::new();
        for crd in [Event::crd(), Reward::crd()] {
            let crd = serde_json::to_value(crd).expect("CRD serialises");
            transition_messages(&crd, &mut found);
        }
        found.sort();
        let mut mirrored: Vec<String> = TRANSITION_RULE_MESSAGES.iter().map(|m| (*m).to_owned()).collect();
        mirrored.sort();
        assert_eq!(
            found, mirrored,
            "each CEL transition rule needs its Rust mirror here"
        );
    }

    #[test]
    fn the_mirror_refuses_what_the_event_ref_rule_refuses() {
        let old = reward_spec("week", 5);
        for (new, refused) in [(reward_spec("week", 9), false), (reward_spec("season", 5), true)] {
            let cel = validate_cel_update(&reward(&new), &reward(&old));
            let problems = reward_transition_problems(&old, &new);
            assert_eq!(cel.is_err(), refused, "CEL: {cel:?}");
            assert_eq!(!problems.is_empty(), refused, "mirror: {problems:?}");
            if refused {
                assert!(format!("{cel:?}").contains(EVENT_REF_IMMUTABLE));
                assert_eq!(problems[0].field, "spec.eventRef");
                assert!(problems[0].message.starts_with(EVENT_REF_IMMUTABLE));
            }
        }
    }

    #[test]
    fn an_event_edit_breaks_no_transition_rule() {
        let spec: EventSpec = serde_json::from_value(json!({
            "displayName": "Week", "startsAt": "2026-03-01T00:00:00Z", "endsAt": "2026-03-08T00:00:00Z",
        }))
        .expect("EventSpec");
        let mut edited = spec.clone();
        edited.ends_at = "2026-03-09T00:00:00Z".parse().expect("time");
        assert_eq!(event_transition_problems(&spec, &edited), []);
    }
}
