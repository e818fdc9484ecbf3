//! The CRDs this plugin validates against, embedded from
//! `crds/liveops.dev.yaml`: the one list of liveops kinds. A kind added to
//! the CRDs is checked against its schema and CEL rules with no change here
//! (its operator checks go in [`super::operator_checks`]).

use std::sync::OnceLock;

use serde_json::Value;

/// API group of every liveops kind.
pub const GROUP: &str = liveops_domain::crd::GROUP;

const CRDS: &str = include_str!("../../../crds/liveops.dev.yaml");

/// One kind's served version and its `openAPIV3Schema`.
#[derive(Debug, Clone)]
pub struct Definition {
    pub kind: String,
    /// `liveops.dev/<version>`.
    pub api_version: String,
    pub schema: Value,
}

/// Every kind of the embedded CRDs.
pub fn definitions() -> &'static [Definition] {
    static DEFINITIONS: OnceLock<Vec<Definition>> = OnceLock::new();
    DEFINITIONS.get_or_init(|| {
        let documents: Vec<Value> = serde_saphyr::from_multiple(CRDS).unwrap_or_default();
        documents.iter().flat_map(definitions_of).collect()
    })
}

/// The kinds, for messages.
pub fn kinds() -> Vec<&'static str> {
    definitions().iter().map(|d| d.kind.as_str()).collect()
}

/// The definition of `kind`, if it is one of ours.
pub fn definition(kind: &str) -> Option<&'static Definition> {
    definitions().iter().find(|d| d.kind == kind)
}

fn definitions_of(crd: &Value) -> Vec<Definition> {
    let Some(kind) = crd.pointer("/spec/names/kind").and_then(Value::as_str) else {
        return Vec::new();
    };
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
    versions
        .into_iter()
        .flatten()
        .filter(|version| version["served"].as_bool() != Some(false))
        .filter_map(|version| {
            Some(Definition {
                kind: kind.to_owned(),
                api_version: format!("{GROUP}/{}", version["name"].as_str()?),
                schema: version.pointer("/schema/openAPIV3Schema")?.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_crds_define_events_and_rewards() {
        for kind in ["Event", "Reward", "WebhookEndpoint", "Counter", "IngestClient"] {
            let definition = definition(kind).unwrap_or_else(|| panic!("{kind} defined"));
            assert_eq!(definition.api_version, "liveops.dev/v1alpha1");
            assert!(definition.schema.pointer("/properties/spec").is_some(), "{kind}");
        }
    }
}
