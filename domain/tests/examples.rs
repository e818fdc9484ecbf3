//! `manifests/examples/` parse into the CRD types and pass the CRDs' CEL
//! rules (kube's `cel` feature) and the operator's own spec checks, are in
//! English, and cover every condition kind, claim frequency, suspend, the
//! caps, the event windows, every counter aggregation and requirement shape.

use std::collections::BTreeSet;

use kube::core::cel::validate_cel;
use liveops_domain::crd::{
    Counter, Event, IngestClient, Reward,
    challenge_validation::{counter_spec_problems, ingest_client_spec_problems},
    requirement::{CounterWindow, Requirement},
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
    windows: BTreeSet<&'static str>,
    aggregations: BTreeSet<String>,
    requirement_shapes: BTreeSet<&'static str>,
}

impl Coverage {
    fn event(&mut self, event: &Event) {
        let spec = &event.spec;
        let kind = spec
            .condition
            .clone()
            .unwrap_or_default()
            .kind()
            .expect("one kind");
        self.conditions.insert(kind.name());
        self.frequencies
            .insert(format!("{:?}", spec.claim_policy.frequency));
        self.suspended += usize::from(spec.suspend);
        self.max_claims += usize::from(spec.max_claims.is_some());
        self.max_rewards_per_user += usize::from(spec.claim_policy.max_rewards_per_user.is_some());
        for (set, window) in [
            (spec.announce_at.is_some(), "announceAt"),
            (spec.claim_until.is_some(), "claimUntil"),
            (spec.claim_policy.reset_at.is_some(), "resetAt"),
        ] {
            if set {
                self.windows.insert(window);
            }
        }
    }

    /// Records the shapes in `requires` and returns the counters it names.
    fn requirement(&mut self, requires: &Requirement, counters: &mut Vec<String>) {
        match requires {
            Requirement::AllOf(items) | Requirement::AnyOf(items) => {
                let group = if matches!(requires, Requirement::AllOf(_)) {
                    "allOf"
                } else {
                    "anyOf"
                };
                self.requirement_shapes.insert(group);
                items.iter().for_each(|item| self.requirement(item, counters));
            }
            Requirement::Counter(leaf) => {
                self.requirement_shapes.insert(match leaf.window {
                    CounterWindow::Event => "counter/Event",
                    CounterWindow::Period => "counter/Period",
                });
                counters.push(leaf.name.clone());
            }
            Requirement::Claimed(_) => {
                self.requirement_shapes.insert("claimed");
            }
        }
    }
}

#[test]
fn the_examples_validate_against_the_crds_and_cover_every_feature() {
    let mut events = BTreeSet::new();
    let mut counters = BTreeSet::new();
    let mut refs = Vec::new();
    let mut counter_refs = Vec::new();
    let mut coverage = Coverage::default();
    for (file, doc) in example_documents() {
        assert_english(&file, &doc);
        let name = doc["metadata"]["name"].as_str().expect("named").to_owned();
        match doc["kind"].as_str() {
            Some("Event") => {
                let event: Event = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
                validate_cel(&event).unwrap_or_else(|e| panic!("{file}: CEL: {e:?}"));
                assert_eq!(event_spec_problems(&event.spec), [], "{file}");
                coverage.event(&event);
                events.insert(name);
            }
            Some("Reward") => {
                let reward: Reward = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
                validate_cel(&reward).unwrap_or_else(|e| panic!("{file}: CEL: {e:?}"));
                assert_eq!(reward_spec_problems(&reward.spec), [], "{file}");
                if let Some(requires) = &reward.spec.requires {
                    coverage.requirement(requires, &mut counter_refs);
                }
                refs.push(reward.spec.event_ref.name.clone());
            }
            Some("Counter") => {
                let counter: Counter = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
                validate_cel(&counter).unwrap_or_else(|e| panic!("{file}: CEL: {e:?}"));
                assert_eq!(counter_spec_problems(&counter.spec), [], "{file}");
                coverage
                    .aggregations
                    .insert(format!("{:?}", counter.spec.aggregation));
                refs.push(counter.spec.event_ref.name.clone());
                counters.insert(name);
            }
            Some("IngestClient") => {
                let client: IngestClient =
                    serde_json::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"));
                validate_cel(&client).unwrap_or_else(|e| panic!("{file}: CEL: {e:?}"));
                assert_eq!(ingest_client_spec_problems(&client.spec), [], "{file}");
                counter_refs.extend(client.spec.counters.iter().cloned());
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
    assert_eq!(
        coverage.windows,
        BTreeSet::from(["announceAt", "claimUntil", "resetAt"])
    );
    assert_eq!(
        coverage.aggregations,
        BTreeSet::from(["Sum", "Max", "DistinctDays"].map(String::from))
    );
    assert_eq!(
        coverage.requirement_shapes,
        BTreeSet::from(["allOf", "anyOf", "counter/Event", "counter/Period", "claimed"])
    );
    assert_eq!(events.len(), 11);
    for name in &events {
        assert!(refs.contains(name), "event {name} has a reward");
    }
    for name in &refs {
        assert!(
            events.contains(name),
            "reward or counter points at a missing event {name}"
        );
    }
    for name in &counter_refs {
        assert!(
            counters.contains(name),
            "a requirement or client names a missing counter {name}"
        );
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
