//! The row `kubectl get` prints for an object, from the generated CRD's
//! printer columns: tests assert on what a user reads, not on field paths.
//! Understands the JSONPath forms the columns use (`.a.b` and
//! `[?(@.type=="X")]`).

use serde_json::Value;

use super::render;

/// `(column name, printed value)` for each printer column of `kind`;
/// absent values print as the empty string, as kubectl does.
pub fn row(kind: &str, object: &Value) -> Vec<(String, String)> {
    let yaml = render().expect("render CRDs");
    let crds: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("parse rendered CRDs");
    let crd = crds
        .iter()
        .find(|crd| crd["spec"]["names"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}"));
    let columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    columns
        .iter()
        .map(|column| {
            let name = column["name"].as_str().unwrap_or_default().to_owned();
            let path = column["jsonPath"].as_str().unwrap_or_default();
            (name, printed(select(object, path)))
        })
        .collect()
}

/// The printed value of the column `name` in `row`.
pub fn cell<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter()
        .find(|(column, _)| column == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn select<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = object;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(filter) = rest.strip_prefix("[?(@.") {
            let (test, after) = filter.split_once(")]")?;
            let (field, wanted) = test.split_once("==")?;
            let wanted = wanted.trim_matches('"');
            node = node.as_array()?.iter().find(|item| item[field] == wanted)?;
            rest = after;
        } else {
            let key = rest.strip_prefix('.')?;
            let end = key.find(['.', '[']).unwrap_or(key.len());
            node = node.get(&key[..end])?;
            rest = &key[end..];
        }
    }
    Some(node)
}

fn printed(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}
