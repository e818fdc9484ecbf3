//! `Reward.spec.requires`: its JSON shape, the operator's bounds (depth,
//! leaves, items per group) and the CRD schema and CEL rules that mirror them.

use kube::{CustomResourceExt, core::cel::validate_cel};
use serde_json::{Value, json};

use super::{
    Reward,
    requirement::{CounterWindow, MAX_AT_LEAST, MAX_GROUP_ITEMS, MAX_LEAVES, Requirement},
    validation::reward_spec_problems,
};

fn reward(requires: Value) -> Result<Reward, serde_json::Error> {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1",
        "kind": "Reward",
        "metadata": {"name": "r", "namespace": "default"},
        "spec": {"eventRef": {"name": "e"}, "displayName": "Gems", "requires": requires},
    }))
}

fn problems(requires: Value) -> Vec<String> {
    let reward = reward(requires).expect("parses");
    reward_spec_problems(&reward.spec)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn counter(name: &str, at_least: i64) -> Value {
    json!({"counter": {"name": name, "atLeast": at_least}})
}

/// `levels` groups nested inside each other around one leaf.
fn nested(levels: usize) -> Value {
    (0..levels).fold(counter("wins", 1), |inner, _| json!({"allOf": [inner]}))
}

#[test]
fn groups_and_leaves_parse_from_one_key_objects() {
    let reward = reward(json!({"anyOf": [
        {"counter": {"name": "wins", "atLeast": 3, "window": "Period"}},
        {"allOf": [{"claimed": {"reward": "bronze"}}, counter("logins", 2)]},
    ]}))
    .expect("parses");
    let Some(Requirement::AnyOf(items)) = &reward.spec.requires else {
        panic!("an anyOf group: {:?}", reward.spec.requires)
    };
    assert!(matches!(&items[0], Requirement::Counter(leaf)
        if leaf.name == "wins" && leaf.at_least == 3 && leaf.window == CounterWindow::Period));
    assert!(matches!(&items[1], Requirement::AllOf(inner) if inner.len() == 2));
    assert_eq!(
        reward.spec.requires.as_ref().map(Requirement::leaf_count),
        Some(3)
    );
    assert_eq!(reward_spec_problems(&reward.spec), []);
}

#[test]
fn the_window_defaults_to_event_and_round_trips() {
    let reward = reward(json!({"allOf": [counter("wins", 1)]})).expect("parses");
    let Some(Requirement::AllOf(items)) = &reward.spec.requires else {
        panic!("allOf")
    };
    assert!(matches!(&items[0], Requirement::Counter(leaf) if leaf.window == CounterWindow::Event));
    let stored = serde_json::to_value(&reward.spec.requires).expect("serialises");
    assert_eq!(
        stored,
        json!({"allOf": [{"counter": {"name": "wins", "atLeast": 1, "window": "Event"}}]})
    );
}

#[test]
fn a_node_with_two_keys_or_none_does_not_parse() {
    assert!(reward(json!({"allOf": [], "anyOf": []})).is_err());
    assert!(reward(json!({})).is_err());
    assert!(reward(json!({"allOf": [{"counter": {"name": "w", "atLeast": 1, "extra": 1}}]})).is_err());
}

#[test]
fn three_levels_of_groups_pass_and_a_fourth_is_refused() {
    assert_eq!(problems(nested(3)), Vec::<String>::new());
    let refused = problems(nested(4));
    assert!(
        refused.iter().any(|p| p.contains("nest at most 3 deep")),
        "{refused:?}"
    );
}

#[test]
fn leaves_and_group_items_are_bounded() {
    let group = |n: usize| json!({"allOf": (0..n).map(|i| counter(&format!("c{i}"), 1)).collect::<Vec<_>>()});
    assert_eq!(problems(group(MAX_GROUP_ITEMS)), Vec::<String>::new());
    let refused = problems(group(MAX_GROUP_ITEMS + 1));
    assert_eq!(refused, ["spec.requires.allOf: must hold 1 to 8 items"]);
    assert_eq!(
        problems(json!({"anyOf": []})),
        ["spec.requires.anyOf: must hold 1 to 8 items"]
    );

    let two = json!({"allOf": [group(MAX_GROUP_ITEMS), group(MAX_GROUP_ITEMS)]});
    assert_eq!(problems(two), Vec::<String>::new(), "exactly {MAX_LEAVES} leaves");
    let three = json!({"allOf": [group(MAX_GROUP_ITEMS), group(MAX_GROUP_ITEMS), counter("x", 1)]});
    assert_eq!(
        problems(three),
        ["spec.requires: must hold at most 16 leaves, found 17"]
    );
}

#[test]
fn leaves_need_a_name_and_a_positive_target_and_the_top_must_be_a_group() {
    assert_eq!(
        problems(json!({"allOf": [counter("", 0), {"claimed": {"reward": ""}}]})),
        [
            "spec.requires.allOf[0].counter.name: must not be empty",
            "spec.requires.allOf[0].counter.atLeast: must be at least 1",
            "spec.requires.allOf[1].claimed.reward: must not be empty",
        ]
    );
    assert_eq!(
        problems(json!({"allOf": [counter("wins", MAX_AT_LEAST)]})),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(json!({"allOf": [counter("wins", MAX_AT_LEAST + 1)]})),
        ["spec.requires.allOf[0].counter.atLeast: must be at most 1000000000000000"]
    );
    assert_eq!(
        problems(counter("wins", 1)),
        ["spec.requires: must be an allOf or anyOf group"]
    );
}

/// The schema node of `requires` and the nodes below it through `path`.
fn requires_node(path: &[&str]) -> Value {
    let crd = serde_json::to_value(Reward::crd()).expect("CRD as JSON");
    let mut node = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["requires"];
    for step in path {
        node = if *step == "items" {
            &node["items"]
        } else {
            &node["properties"][step]
        };
    }
    node.clone()
}

#[test]
fn the_schema_unrolls_three_levels_of_groups_then_leaves_only() {
    let top = requires_node(&[]);
    assert_eq!(top["maxProperties"].as_u64(), Some(1));
    assert_eq!(
        requires_node(&["allOf"])["maxItems"].as_u64(),
        Some(MAX_GROUP_ITEMS as u64)
    );
    let level3 = requires_node(&["allOf", "items", "anyOf", "items"]);
    assert!(
        level3["properties"]["allOf"].is_object(),
        "a third level of groups"
    );
    let deepest = requires_node(&["allOf", "items", "anyOf", "items", "allOf", "items"]);
    let keys: Vec<&String> = deepest["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    assert_eq!(keys.len(), 2, "leaves only at the deepest level: {keys:?}");
    assert_eq!(
        requires_node(&["allOf", "items", "counter", "atLeast"])["minimum"].as_f64(),
        Some(1.0)
    );
    assert_eq!(
        requires_node(&["allOf", "items", "counter", "atLeast"])["maximum"].as_f64(),
        Some(MAX_AT_LEAST as f64)
    );
}

#[test]
fn cel_accepts_one_key_per_node_and_refuses_two() {
    let ok = reward(json!({"allOf": [counter("wins", 1), {"anyOf": [{"claimed": {"reward": "b"}}]}]}))
        .expect("parses");
    validate_cel(&ok).expect("one key per node passes CEL");
    // Two keys in one item cannot come from the Rust type; build the object by hand.
    let mut two_keys = serde_json::to_value(&ok).expect("as JSON");
    two_keys["spec"]["requires"]["allOf"][0]["claimed"] = json!({"reward": "b"});
    let errors = validate_cel_value(&two_keys).expect_err("two keys are refused");
    assert!(errors.contains("set exactly one of"), "{errors}");
}

/// CEL validation of a raw object against the Reward CRD's schema.
fn validate_cel_value(object: &Value) -> Result<(), String> {
    let crd = serde_json::to_value(Reward::crd()).expect("CRD as JSON");
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    kube::core::cel::Validator::new()
        .validate(schema, object, None)
        .map_err(|errors| format!("{errors:?}"))
}
