//! `manifests/examples/` parse into the CRD types and pass the CRDs' CEL
//! rules (kube's `cel` feature) and the operator's own spec checks, are in
//! English, and cover every condition kind, claim frequency, suspend and the caps.

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

/// What the examples must show between them, as the README promises.
#[derive(Default)]
struct Coverage {
    conditions: BTreeSet<&'static str>,
    frequencies: BTreeSet<String>,
    suspended: usize,
    max_claims: usize,
    max_rewards_per_user: usize,
}

#[test]
fn the_examples_validate_against_the_crds_and_cover_every_feature() {
    let mut events = BTreeSet::new();
    let mut refs = Vec::new();
    let mut coverage = Coverage::default();
    for (file, doc) in example_documents() {
        assert_english(&file, &doc);
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
                coverage.conditions.insert(kind.name());
                coverage
                    .frequencies
                    .insert(format!("{:?}", event.spec.claim_policy.frequency));
                coverage.suspended += usize::from(event.spec.suspend);
                coverage.max_claims += usize::from(event.spec.max_claims.is_some());
                coverage.max_rewards_per_user +=
                    usize::from(event.spec.claim_policy.max_rewards_per_user.is_some());
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
        coverage.conditions,
        BTreeSet::from(["none", "loginStreak", "loginDays", "profileComplete", "referrals"]),
        "one example per condition kind"
    );
    assert_eq!(
        coverage.frequencies,
        BTreeSet::from(["Once", "Daily", "Weekly"].map(String::from))
    );
    assert_eq!(coverage.suspended, 1, "one suspended event");
    assert!(coverage.max_claims >= 1, "an event with maxClaims");
    assert!(
        coverage.max_rewards_per_user >= 1,
        "an event with maxRewardsPerUser"
    );
    assert_eq!(events.len(), 6);
    for name in &events {
        assert!(refs.contains(name), "event {name} has a reward");
    }
    for name in &refs {
        assert!(events.contains(name), "reward points at a missing event {name}");
    }
}

/// Every string in an example (names, display texts, comments aside) is English: ASCII only.
fn assert_english(file: &str, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(text) => assert!(text.is_ascii(), "{file}: not English: {text:?}"),
        serde_json::Value::Array(items) => items.iter().for_each(|item| assert_english(file, item)),
        serde_json::Value::Object(fields) => fields.values().for_each(|field| assert_english(file, field)),
        _ => {}
    }
}

#[test]
fn the_example_files_comments_included_are_ascii() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests/examples");
    for entry in std::fs::read_dir(dir).expect("manifests/examples exists") {
        let path = entry.expect("directory entry").path();
        let text = std::fs::read_to_string(&path).expect("readable example");
        assert!(text.is_ascii(), "{} has non-ASCII text", path.display());
    }
}
