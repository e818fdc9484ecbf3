//! The Counter and IngestClient CRDs' CEL rules evaluated with kube's `cel`
//! feature, against the operator's own checks (manifests mode has no API
//! server): both must accept and refuse the same specs.

use kube::core::cel::{validate_cel, validate_cel_update};
use serde_json::{Value, json};

use super::{
    Counter, IngestClient,
    challenge_validation::{
        AGGREGATION_IMMUTABLE, counter_spec_problems, counter_transition_problems,
        ingest_client_spec_problems,
    },
    ingest_client::secret_digest,
    transition::EVENT_REF_IMMUTABLE,
};

const HASH: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn counter(spec: Value) -> Counter {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Counter",
        "metadata": {"name": "kills", "namespace": "default"},
        "spec": spec,
    }))
    .expect("test Counter parses")
}

fn client(spec: Value) -> IngestClient {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "IngestClient",
        "metadata": {"name": "game", "namespace": "default"},
        "spec": spec,
    }))
    .expect("test IngestClient parses")
}

fn sum(extra: Value) -> Value {
    let mut spec = json!({"eventRef": {"name": "week"}, "displayName": "Kills", "aggregation": "Sum"});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    spec
}

fn counter_rejected_with(counter: &Counter, needle: &str) {
    let problems = counter_spec_problems(&counter.spec);
    assert!(
        problems.iter().any(|p| p.message.contains(needle)),
        "the operator refuses it too: {problems:?}"
    );
    let errors = validate_cel(counter).expect_err("the rule rejects this spec");
    assert!(
        format!("{errors:?}").contains(needle),
        "expected {needle:?} in {errors:?}"
    );
}

#[test]
fn counters_with_ordered_bounds_or_none_pass_both_checks() {
    for spec in [
        sum(json!({})),
        sum(json!({"minAmount": 1, "maxAmount": 1})),
        sum(json!({"minAmount": -9_007_199_254_740_991_i64, "maxAmount": 9_007_199_254_740_991_i64})),
        sum(json!({"aggregation": "Max", "maxAmount": 100})),
        sum(json!({"aggregation": "DistinctDays"})),
    ] {
        let counter = counter(spec.clone());
        validate_cel(&counter).unwrap_or_else(|errors| panic!("{spec}: {errors:?}"));
        assert_eq!(counter_spec_problems(&counter.spec), [], "{spec}");
    }
}

#[test]
fn min_amount_above_max_amount_fails_both_checks() {
    counter_rejected_with(
        &counter(sum(json!({"minAmount": 5, "maxAmount": 4}))),
        "minAmount must not exceed maxAmount",
    );
}

#[test]
fn a_distinct_days_counter_with_bounds_fails_both_checks() {
    for bounds in [json!({"minAmount": 1}), json!({"maxAmount": 1})] {
        let mut spec = sum(bounds);
        spec["aggregation"] = json!("DistinctDays");
        counter_rejected_with(&counter(spec), "DistinctDays counter takes no minAmount");
    }
}

#[test]
fn bounds_beyond_two_to_the_53_are_refused_by_the_operator() {
    let counter = counter(sum(json!({"maxAmount": 9_007_199_254_740_992_i64})));
    let problems = counter_spec_problems(&counter.spec);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "spec.maxAmount");
}

#[test]
fn event_ref_and_aggregation_are_immutable_in_cel_and_in_the_mirror() {
    let old = counter(sum(json!({"maxAmount": 10})));
    let cases = [
        (sum(json!({"maxAmount": 20, "displayName": "Frags"})), None),
        (
            sum(json!({"eventRef": {"name": "season"}})),
            Some(EVENT_REF_IMMUTABLE),
        ),
        (sum(json!({"aggregation": "Max"})), Some(AGGREGATION_IMMUTABLE)),
    ];
    for (spec, refused) in cases {
        let new = counter(spec.clone());
        let cel = validate_cel_update(&new, &old);
        let mirror = counter_transition_problems(&old.spec, &new.spec);
        match refused {
            None => {
                assert!(cel.is_ok(), "{spec}: {cel:?}");
                assert_eq!(mirror, [], "{spec}");
            }
            Some(needle) => {
                assert!(format!("{cel:?}").contains(needle), "{spec}: {cel:?}");
                assert_eq!(mirror.len(), 1, "{spec}: {mirror:?}");
                assert!(mirror[0].message.starts_with(needle), "{mirror:?}");
            }
        }
    }
}

#[test]
fn a_client_with_well_formed_hashes_and_unique_counters_passes_both_checks() {
    let client =
        client(json!({"secretHashes": [HASH, HASH.replace("9f", "00")], "counters": ["kills", "wins"]}));
    validate_cel(&client).expect("CEL accepts it");
    assert_eq!(ingest_client_spec_problems(&client.spec), []);
    assert_eq!(client.spec.signals_per_minute, 60_000, "the default");
    assert!(!client.spec.suspend);
}

#[test]
fn malformed_secret_hashes_fail_both_checks() {
    for bad in [
        "sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
        "sha256:9f86d0",
        "md5:9f86d081884c7d659a2feaa0c55ad015",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ] {
        let client = client(json!({"secretHashes": [bad], "counters": ["kills"]}));
        let errors = validate_cel(&client).expect_err(bad);
        assert!(
            format!("{errors:?}").contains("sha256:<64 lowercase hex"),
            "{bad}: {errors:?}"
        );
        let problems = ingest_client_spec_problems(&client.spec);
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert_eq!(problems[0].field, "spec.secretHashes");
    }
}

#[test]
fn a_counter_listed_twice_fails_both_checks() {
    let client = client(json!({"secretHashes": [HASH], "counters": ["kills", "wins", "kills"]}));
    let errors = validate_cel(&client).expect_err("duplicate");
    assert!(
        format!("{errors:?}").contains("must not list a name twice"),
        "{errors:?}"
    );
    let problems = ingest_client_spec_problems(&client.spec);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "spec.counters");
}

#[test]
fn signals_per_minute_must_be_at_least_one() {
    let client = client(json!({"secretHashes": [HASH], "counters": ["kills"], "signalsPerMinute": 0}));
    let errors = validate_cel(&client).expect_err("zero");
    assert!(format!("{errors:?}").contains("signalsPerMinute must be at least 1"));
    let too_many = ingest_client_spec_problems(&client.spec);
    assert_eq!(too_many[0].field, "spec.signalsPerMinute");
    let mut above = client.spec.clone();
    above.signals_per_minute = 1_000_001;
    assert_eq!(
        ingest_client_spec_problems(&above)[0].field,
        "spec.signalsPerMinute"
    );
}

#[test]
fn empty_or_oversized_lists_are_refused_by_the_operator() {
    let none = client(json!({"secretHashes": [], "counters": []}));
    let fields: Vec<_> = ingest_client_spec_problems(&none.spec)
        .into_iter()
        .map(|p| p.field)
        .collect();
    assert_eq!(fields, ["spec.secretHashes", "spec.counters"]);
    let three = client(json!({"secretHashes": [HASH, HASH, HASH], "counters": ["a"]}));
    assert_eq!(
        ingest_client_spec_problems(&three.spec)[0].field,
        "spec.secretHashes"
    );
}

#[test]
fn a_secret_hash_decodes_to_its_32_byte_digest() {
    let digest = secret_digest(HASH).expect("well formed");
    assert_eq!(digest[..4], [0x9f, 0x86, 0xd0, 0x81]);
    assert_eq!(digest[31], 0x08);
    assert_eq!(secret_digest("sha256:zz"), None);
}
