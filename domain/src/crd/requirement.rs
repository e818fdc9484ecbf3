//! `Reward.spec.requires` (DESIGN.md, "Second stage", "Challenges"): what a
//! user must have done to claim a reward, as `allOf` / `anyOf` groups of
//! counter leaves and `claimed` preconditions. The claim statement walks the
//! same JSON (`liveops_requirement_holds`, migration 0040).
//!
//! The CRD schema cannot recurse (structural schemas have no `$ref`), so
//! [`requires_schema`] unrolls the three allowed levels of groups; the
//! operator re-checks the bounds with [`requirement_problems`].

use schemars::{Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::validation::SpecProblem;

/// Most nested groups, the top-level group included.
pub const MAX_DEPTH: usize = 3;
/// Most leaves (`counter` and `claimed`) in one `requires`.
pub const MAX_LEAVES: usize = 16;
/// Most items in one `allOf` / `anyOf`.
pub const MAX_GROUP_ITEMS: usize = 8;
/// Largest `atLeast` (10^15: exact in the schema's JSON numbers).
pub const MAX_AT_LEAST: i64 = 1_000_000_000_000_000;

/// One node of `requires`: a group or a leaf, written as a one-key object
/// (`{allOf: [...]}`, `{counter: {...}}`), like the Event's `condition`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Requirement {
    /// Met when every item is met.
    AllOf(Vec<Requirement>),
    /// Met when at least one item is met.
    AnyOf(Vec<Requirement>),
    /// A counter of the reward's namespace has reached a value.
    Counter(CounterRequirement),
    /// The user holds a successful claim of another Reward.
    Claimed(ClaimedRequirement),
}

/// `{counter: {name, atLeast, window}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CounterRequirement {
    /// `metadata.name` of a Counter in the reward's namespace.
    pub name: String,
    /// The value the counter must reach (1 to 10^15).
    pub at_least: i64,
    /// Which value of the counter is read.
    #[serde(default)]
    pub window: CounterWindow,
}

/// The counter value a leaf reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CounterWindow {
    /// The value over the whole event window.
    #[default]
    Event,
    /// The value in the claim's current period (Daily / Weekly / Once).
    Period,
}

/// `{claimed: {reward}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimedRequirement {
    /// `metadata.name` of a Reward in the same namespace; any period.
    pub reward: String,
}

impl Requirement {
    /// The group's items, or `None` for a leaf.
    fn items(&self) -> Option<(&'static str, &[Requirement])> {
        match self {
            Self::AllOf(items) => Some(("allOf", items)),
            Self::AnyOf(items) => Some(("anyOf", items)),
            Self::Counter(_) | Self::Claimed(_) => None,
        }
    }

    /// Leaves in the tree.
    pub fn leaf_count(&self) -> usize {
        match self.items() {
            Some((_, items)) => items.iter().map(Self::leaf_count).sum(),
            None => 1,
        }
    }
}

/// Everything wrong with `requires` (the schema's and CEL's rules, and the
/// leaf bound CEL cannot count); paths start at `spec.requires`.
pub fn requirement_problems(requires: &Requirement) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if requires.items().is_none() {
        problems.push(problem("spec.requires", "must be an allOf or anyOf group"));
    }
    let leaves = requires.leaf_count();
    if leaves > MAX_LEAVES {
        problems.push(problem(
            "spec.requires",
            format!("must hold at most {MAX_LEAVES} leaves, found {leaves}"),
        ));
    }
    check_node(requires, "spec.requires", 1, &mut problems);
    problems
}

fn check_node(node: &Requirement, path: &str, depth: usize, problems: &mut Vec<SpecProblem>) {
    match node {
        Requirement::Counter(leaf) => {
            if leaf.name.is_empty() {
                problems.push(problem(&format!("{path}.counter.name"), "must not be empty"));
            }
            if leaf.at_least < 1 {
                problems.push(problem(&format!("{path}.counter.atLeast"), "must be at least 1"));
            }
            if leaf.at_least > MAX_AT_LEAST {
                problems.push(problem(
                    &format!("{path}.counter.atLeast"),
                    format!("must be at most {MAX_AT_LEAST}"),
                ));
            }
        }
        Requirement::Claimed(leaf) => {
            if leaf.reward.is_empty() {
                problems.push(problem(&format!("{path}.claimed.reward"), "must not be empty"));
            }
        }
        Requirement::AllOf(_) | Requirement::AnyOf(_) => {
            let Some((key, items)) = node.items() else { return };
            let path = format!("{path}.{key}");
            if depth > MAX_DEPTH {
                problems.push(problem(&path, format!("groups nest at most {MAX_DEPTH} deep")));
                return;
            }
            if items.is_empty() || items.len() > MAX_GROUP_ITEMS {
                problems.push(problem(&path, format!("must hold 1 to {MAX_GROUP_ITEMS} items")));
            }
            for (index, item) in items.iter().enumerate() {
                check_node(item, &format!("{path}[{index}]"), depth + 1, problems);
            }
        }
    }
}

fn problem(field: &str, message: impl Into<String>) -> SpecProblem {
    SpecProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The CRD schema of `requires`: the top-level group, two more levels of
/// nested groups, then leaves only. Each node holds exactly one key.
pub fn requires_schema(_: &mut SchemaGenerator) -> Schema {
    let mut top = group_schema(2);
    top["description"] = Value::from(
        "What a user must have done to claim this reward: an allOf or anyOf group (groups nest \
         at most 3 deep, at most 8 items each, at most 16 leaves in all) of counter leaves \
         {counter: {name, atLeast, window}} and claimed preconditions {claimed: {reward}}; \
         ANDed with the Event's condition. Absent: no requirement.",
    );
    Schema::try_from(top).expect("an object schema")
}

/// A group whose items are nodes of level `item_level` (groups allowed
/// while `item_level <= MAX_DEPTH`).
fn group_schema(item_level: usize) -> Value {
    let items = node_schema(item_level);
    let list = |what: &str| {
        json!({
            "type": "array",
            "description": what,
            "minItems": 1,
            "maxItems": MAX_GROUP_ITEMS,
            "items": items.clone(),
        })
    };
    let mut properties = serde_json::Map::new();
    properties.insert("allOf".into(), list("Met when every item is met."));
    properties.insert("anyOf".into(), list("Met when at least one item is met."));
    one_key_object("A group: exactly one of allOf, anyOf.", properties)
}

/// A node of `level`: a group (while the depth allows) or a leaf.
fn node_schema(level: usize) -> Value {
    let mut properties = serde_json::Map::new();
    if level <= MAX_DEPTH {
        let Value::Object(group) = group_schema(level + 1) else {
            unreachable!("an object")
        };
        if let Some(Value::Object(group_properties)) = group.get("properties") {
            properties.extend(group_properties.clone());
        }
    }
    properties.insert("counter".into(), counter_schema());
    properties.insert(
        "claimed".into(),
        json!({
            "type": "object",
            "description": "The user holds a successful claim (any period) of another Reward in this namespace.",
            "required": ["reward"],
            "properties": {"reward": {"type": "string", "minLength": 1, "maxLength": 253,
                                      "description": "metadata.name of the Reward."}},
        }),
    );
    let what = if level <= MAX_DEPTH {
        "An item: exactly one of allOf, anyOf, counter, claimed."
    } else {
        "An item at the deepest level: exactly one of counter, claimed."
    };
    one_key_object(what, properties)
}

fn counter_schema() -> Value {
    json!({
        "type": "object",
        "description": "A Counter of this namespace has reached atLeast for the user; a counter never fed counts 0.",
        "required": ["name", "atLeast"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 253,
                     "description": "metadata.name of the Counter."},
            "atLeast": {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_AT_LEAST,
                        "description": "The value the counter must reach (1 to 10^15)."},
            "window": {"type": "string", "enum": ["Event", "Period"], "default": "Event",
                       "description": "Event: the value over the whole event window; Period: the value in the claim's current period."},
        },
    })
}

/// An object with exactly one of `properties` set (CEL and min/maxProperties).
fn one_key_object(what: &str, properties: serde_json::Map<String, Value>) -> Value {
    let keys: Vec<String> = properties
        .keys()
        .map(|key| format!("(has(self.{key}) ? 1 : 0)"))
        .collect();
    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
    json!({
        "type": "object",
        "description": what,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": properties,
        "x-kubernetes-validations": [{
            "rule": format!("{} == 1", keys.join(" + ")),
            "message": format!("set exactly one of {}", names.join(", ")),
        }],
    })
}
