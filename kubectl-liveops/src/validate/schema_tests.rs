//! The structural checks on a small schema shaped like the CRDs'.

use serde_json::{Value, json};

use super::problems;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "at": {"type": "string", "format": "date-time"},
                    "count": {"type": "integer", "format": "int32", "minimum": 1.0, "maximum": 10.0},
                    "mode": {"type": "string", "enum": ["Once", "Daily"]},
                    "note": {"type": "string", "nullable": true},
                    "payload": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "format": {"type": "integer", "format": "uint32"},
                },
            },
        },
    })
}

fn fields(object: Value) -> Vec<String> {
    problems(&schema(), &object)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

#[test]
fn a_conforming_object_has_no_problems() {
    let object = json!({
        "apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "labels": {"a": "b"}},
        "spec": {"name": "n", "at": "2026-03-01T00:00:00+09:00", "count": 3, "mode": "Daily",
                 "note": null, "payload": {"anything": [1]}, "tags": ["a"], "format": 7},
    });
    assert_eq!(problems(&schema(), &object), []);
}

#[test]
fn each_kind_of_mistake_names_its_field() {
    assert_eq!(fields(json!({"spec": {"name": 5}})), ["spec.name"]);
    assert_eq!(fields(json!({"spec": {}})), ["spec.name"]);
    assert_eq!(
        fields(json!({"spec": {"name": null}})),
        ["spec.name"],
        "null is absent"
    );
    assert_eq!(fields(json!({"spec": {"name": ""}})), ["spec.name"]);
    assert_eq!(
        fields(json!({"spec": {"name": "n", "at": "tomorrow"}})),
        ["spec.at"]
    );
    assert_eq!(fields(json!({"spec": {"name": "n", "count": 0}})), ["spec.count"]);
    assert_eq!(
        fields(json!({"spec": {"name": "n", "count": 11}})),
        ["spec.count"]
    );
    assert_eq!(
        fields(json!({"spec": {"name": "n", "count": 2.5}})),
        ["spec.count"]
    );
    assert_eq!(
        fields(json!({"spec": {"name": "n", "mode": "Hourly"}})),
        ["spec.mode"]
    );
    assert_eq!(
        fields(json!({"spec": {"name": "n", "tags": ["a", 1]}})),
        ["spec.tags[1]"]
    );
    assert_eq!(
        fields(json!({"spec": {"name": "n", "colour": "red"}})),
        ["spec.colour"]
    );
    assert_eq!(fields(json!({"spec": {"name": "n"}, "extra": 1})), ["extra"]);
}

#[test]
fn int32_bounds_hold_even_without_a_maximum() {
    let schema = json!({"type": "integer", "format": "int32"});
    assert_eq!(problems(&schema, &json!(2_147_483_647_i64)), []);
    assert_eq!(problems(&schema, &json!(3_000_000_000_i64)).len(), 1);
}
