//! Structural checks of a document against a CRD's `openAPIV3Schema`, as
//! an API server applies them before the CEL rules: types, required fields,
//! enums, formats, minimums and maximums, lengths, patterns, and unknown
//! fields (which an API server prunes, or refuses with strict field
//! validation: in a GitOps repo they are mistakes).
//!
//! `null` where the schema is not `nullable` counts as absent, as the API
//! server prunes it; formats Kubernetes does not know are not checked.

use serde_json::{Map, Value};

use super::FieldProblem;

/// Fields every object may carry beside those its schema lists.
const OBJECT_ROOT_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Everything in `object` its schema does not allow.
pub fn problems(schema: &Value, object: &Value) -> Vec<FieldProblem> {
    let mut found = Vec::new();
    check(schema, object, "", true, &mut found);
    found
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn check(schema: &Value, value: &Value, path: &str, root: bool, found: &mut Vec<FieldProblem>) {
    if value.is_null() {
        return;
    }
    let mut report = |message: String| found.push((display_path(path), message));
    let int_or_string = schema["x-kubernetes-int-or-string"].as_bool() == Some(true);
    if int_or_string && (value.is_string() || value.is_i64() || value.is_u64()) {
        return;
    }
    if let Some(expected) = schema["type"].as_str()
        && !has_type(value, expected)
    {
        report(format!("must be of type {expected}, found {}", type_name(value)));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        report(format!(
            "unsupported value {value}: supported values: {}",
            list.join(", ")
        ));
    }
    match value {
        Value::Object(fields) => check_object(schema, fields, path, root, found),
        Value::Array(items) => check_array(schema, items, path, found),
        Value::String(text) => found.extend(string_problems(schema, text).map(|m| (display_path(path), m))),
        Value::Number(_) => found.extend(number_problems(schema, value).map(|m| (display_path(path), m))),
        Value::Bool(_) | Value::Null => {}
    }
}

fn check_object(
    schema: &Value,
    fields: &Map<String, Value>,
    path: &str,
    root: bool,
    found: &mut Vec<FieldProblem>,
) {
    let properties = schema["properties"].as_object();
    let preserve = schema["x-kubernetes-preserve-unknown-fields"].as_bool() == Some(true);
    for (name, value) in fields {
        let field_path = join(path, name);
        if let Some(property) = properties.and_then(|p| p.get(name)) {
            check(property, value, &field_path, false, found);
        } else if schema["additionalProperties"].is_object() {
            check(&schema["additionalProperties"], value, &field_path, false, found);
        } else if !(preserve
            || schema["additionalProperties"] == Value::Bool(true)
            || root && OBJECT_ROOT_FIELDS.contains(&name.as_str()))
        {
            found.push((field_path, format!("unknown field {name:?}")));
        }
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let Some(name) = required.as_str() else { continue };
        if fields.get(name).is_none_or(Value::is_null) {
            found.push((join(path, name), "required value".to_owned()));
        }
    }
}

fn check_array(schema: &Value, items: &[Value], path: &str, found: &mut Vec<FieldProblem>) {
    let count = items.len() as f64;
    if let Some(min) = schema["minItems"].as_f64().filter(|min| count < *min) {
        found.push((display_path(path), format!("must have at least {min} items")));
    }
    if let Some(max) = schema["maxItems"].as_f64().filter(|max| count > *max) {
        found.push((display_path(path), format!("must have at most {max} items")));
    }
    for (index, item) in items.iter().enumerate() {
        check(&schema["items"], item, &format!("{path}[{index}]"), false, found);
    }
}

fn string_problems<'a>(schema: &'a Value, text: &'a str) -> impl Iterator<Item = String> + 'a {
    let length = text.chars().count() as f64;
    let too_short = schema["minLength"]
        .as_f64()
        .filter(|min| length < *min)
        .map(|min| format!("must be at least {min} characters long"));
    let too_long = schema["maxLength"]
        .as_f64()
        .filter(|max| length > *max)
        .map(|max| format!("must be at most {max} characters long"));
    let unmatched = schema["pattern"].as_str().and_then(|pattern| {
        let matches = regex::Regex::new(pattern).map(|re| re.is_match(text));
        (matches.ok() == Some(false)).then(|| format!("must match the pattern {pattern:?}"))
    });
    let bad_format = match schema["format"].as_str() {
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(text)
            .err()
            .map(|error| format!("must be an RFC 3339 date-time: {error}")),
        Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .err()
            .map(|error| format!("must be a date (YYYY-MM-DD): {error}")),
        _ => None,
    };
    [too_short, too_long, unmatched, bad_format].into_iter().flatten()
}

fn number_problems(schema: &Value, value: &Value) -> impl Iterator<Item = String> {
    let number = value.as_f64().unwrap_or_default();
    let exclusive = |key: &str| schema[key].as_bool() == Some(true);
    let below = schema["minimum"].as_f64().and_then(|min| {
        let bad = if exclusive("exclusiveMinimum") {
            number <= min
        } else {
            number < min
        };
        let relation = if exclusive("exclusiveMinimum") {
            "greater than"
        } else {
            "greater than or equal to"
        };
        bad.then(|| format!("must be {relation} {min}"))
    });
    let above = schema["maximum"].as_f64().and_then(|max| {
        let bad = if exclusive("exclusiveMaximum") {
            number >= max
        } else {
            number > max
        };
        let relation = if exclusive("exclusiveMaximum") {
            "less than"
        } else {
            "less than or equal to"
        };
        bad.then(|| format!("must be {relation} {max}"))
    });
    let range = match schema["format"].as_str() {
        Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX), "int32")),
        Some("int64") => Some((i64::MIN as f64, i64::MAX as f64, "int64")),
        _ => None,
    };
    let out_of_format = range
        .filter(|(min, max, _)| number < *min || number > *max || value.is_u64() && value.as_i64().is_none())
        .map(|(_, _, name)| format!("{value} does not fit format {name}"));
    [below, above, out_of_format].into_iter().flatten()
}

fn has_type(value: &Value, expected: &str) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "-".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
