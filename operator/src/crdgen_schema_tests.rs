//! Checks over every generated CRD (a new kind is covered once `render`
//! includes it): `kubectl explain` has a description for each field, counts
//! have a Kubernetes format and a bound, and the printer columns read well.

use serde_json::Value;

use super::render;

/// Each generated CRD as JSON.
fn crds() -> Vec<Value> {
    let yaml = render().expect("render CRDs");
    serde_saphyr::from_multiple::<Value>(&yaml)
        .expect("parse rendered CRDs")
        .into_iter()
        .filter(|crd| !crd.is_null())
        .collect()
}

/// Each version's schema of each CRD, named `Kind/version`.
fn schemas() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for crd in crds() {
        let kind = crd["spec"]["names"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for version in crd["spec"]["versions"].as_array().cloned().unwrap_or_default() {
            let name = format!("{kind}/{}", version["name"].as_str().unwrap_or_default());
            out.push((name, version["schema"]["openAPIV3Schema"].clone()));
        }
    }
    assert!(out.len() >= 2, "both kinds render a schema");
    out
}

/// What is wrong with the schema node at `path` and below.
fn problems_under(node: &Value, path: &str, out: &mut Vec<String>) {
    if node["description"].as_str().is_none_or(str::is_empty) {
        out.push(format!("{path}: no description"));
    }
    if node["type"] == "integer" {
        let format = node["format"].as_str().unwrap_or_default();
        if format != "int32" && format != "int64" {
            out.push(format!("{path}: integer format {format:?}, not int32/int64"));
        }
        // Every count a user writes has a bound; status counters are the
        // operator's own and only need a minimum.
        if path.contains(".spec") && node["maximum"].is_null() {
            out.push(format!("{path}: integer without maximum"));
        }
    }
    if let Some(properties) = node["properties"].as_object() {
        for (name, child) in properties {
            problems_under(child, &format!("{path}.{name}"), out);
        }
    }
    if node["items"].is_object() {
        problems_under(&node["items"], &format!("{path}[]"), out);
    }
}

#[test]
fn every_field_has_a_description_and_every_integer_a_format_and_bound() {
    let mut problems = Vec::new();
    for (name, schema) in schemas() {
        problems_under(&schema, &name, &mut problems);
    }
    assert!(problems.is_empty(), "schema problems:\n{}", problems.join("\n"));
}

#[test]
fn the_walk_catches_a_missing_description_and_an_unbounded_count() {
    let schema = serde_json::json!({
        "description": "root",
        "properties": {"spec": {"description": "spec", "properties": {
            "count": {"type": "integer", "format": "uint32"},
        }}},
    });
    let mut problems = Vec::new();
    problems_under(&schema, "X", &mut problems);
    assert_eq!(
        problems,
        [
            "X.spec.count: no description",
            "X.spec.count: integer format \"uint32\", not int32/int64",
            "X.spec.count: integer without maximum",
        ]
    );
}

#[test]
fn every_kind_prints_ready_and_its_message_and_no_date_but_age() {
    for crd in crds() {
        let kind = crd["spec"]["names"]["kind"].clone();
        for version in crd["spec"]["versions"].as_array().cloned().unwrap_or_default() {
            let columns = version["additionalPrinterColumns"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let column = |name: &str| columns.iter().find(|c| c["name"] == name).cloned();
            let ready = column("Ready").unwrap_or_else(|| panic!("{kind}: no Ready column"));
            assert_eq!(
                ready["jsonPath"],
                r#".status.conditions[?(@.type=="Ready")].status"#
            );
            let status = column("Status").unwrap_or_else(|| panic!("{kind}: no Status column"));
            assert_eq!(
                status["jsonPath"],
                r#".status.conditions[?(@.type=="Ready")].message"#
            );
            for column in &columns {
                // `date` prints `<invalid>` for future instants; only Age is past.
                if column["type"] == "date" {
                    assert_eq!(
                        column["jsonPath"], ".metadata.creationTimestamp",
                        "{kind}: {column}"
                    );
                }
                assert_ne!(column["jsonPath"], ".spec.condition", "{kind}: raw JSON column");
            }
        }
    }
}
