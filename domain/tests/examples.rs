//! `manifests/examples/` parse into the CRD types and pass the CRDs' CEL
//! rules (kube's `cel` feature) and the operator's own spec checks.

use std::collections::BTreeSet;

use kube::core::cel::validate_cel;
use liveops_domain::crd::{
    Event, Reward,
    validation::{event_spec_problems, reward_spec_problems},
};

fn example_documents() -> Vec<(String, serde_json::Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests/examples");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("manifests/examples exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable example");
            let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
            docs.into_iter().map(move |doc| (path.display().to_string(), doc))
        })
        .collect()
}

#[test]
fn the_seed_examples_validate_against_the_crds() {
    let mut events = BTreeSet::new();
    let mut refs = Vec::new();
    let mut conditions = BTreeSet::new();
    for (file, doc) in example_documents() {
        match doc["kind"].as_str() {
            Some("Event") => {
                let event: Event = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
                validate_cel(&event).unwrap_or_else(|e| panic!("{file}: CEL: {e:?}"));
                assert_eq!(event_spec_problems(&event.spec), [], "{file}");
                let kind = event
                    .spec
                    .condition
                    .clone()
                    .unwrap_or_default()
                    .kind()
                    .expect("one kind");
                conditions.insert(kind.name());
                events.insert(event.metadata.name.clone().expect("named"));
            }
            Some("Reward") => {
                let reward: Reward = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
                validate_cel(&reward).unwrap_or_else(|e| panic!("{file}: CEL: {e:?}"));
                assert_eq!(reward_spec_problems(&reward.spec), [], "{file}");
                refs.push(reward.spec.event_ref.name.clone());
            }
            other => panic!("{file}: unexpected kind {other:?}"),
        }
    }
    assert_eq!(
        conditions,
        BTreeSet::from(["loginStreak", "profileComplete", "referrals"])
    );
    assert_eq!(events.len(), 3);
    for name in &events {
        assert!(refs.contains(name), "event {name} has a reward");
    }
    for name in &refs {
        assert!(events.contains(name), "reward points at a missing event {name}");
    }
}
