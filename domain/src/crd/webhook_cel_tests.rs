//! The WebhookEndpoint CRD's URL rule evaluated with kube's `cel` feature,
//! against the operator's own check (manifests mode has no API server): both
//! must accept and refuse the same URLs.

use kube::core::cel::validate_cel;
use serde_json::{Value, json};

use super::{WebhookEndpoint, validation::webhook_endpoint_spec_problems};

fn endpoint(spec: Value) -> WebhookEndpoint {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1",
        "kind": "WebhookEndpoint",
        "metadata": {"name": "hook", "namespace": "default"},
        "spec": spec,
    }))
    .expect("test WebhookEndpoint parses")
}

fn with_url(url: &str) -> WebhookEndpoint {
    endpoint(json!({"url": url, "secretRef": {"name": "hook-secret"}}))
}

#[test]
fn http_and_https_urls_pass_both_checks() {
    for url in [
        "https://hooks.example.com/liveops",
        "http://10.0.0.7:8080",
        "HTTPS://Example.com/a?b=c#d",
    ] {
        let hook = with_url(url);
        validate_cel(&hook).unwrap_or_else(|errors| panic!("{url}: {errors:?}"));
        assert_eq!(webhook_endpoint_spec_problems(&hook.spec), [], "{url}");
    }
}

#[test]
fn other_schemes_relative_urls_and_spaces_fail_both_checks() {
    for url in [
        "ftp://example.com/x",
        "example.com/hook",
        "https:///no-host",
        "https://exa mple.com/",
        "https://example.com/a b",
    ] {
        let hook = with_url(url);
        let errors = validate_cel(&hook).expect_err(url);
        assert!(
            format!("{errors:?}").contains("absolute http"),
            "{url}: {errors:?}"
        );
        let problems = webhook_endpoint_spec_problems(&hook.spec);
        assert_eq!(problems.len(), 1, "{url}: {problems:?}");
        assert_eq!(problems[0].field, "spec.url");
    }
}

#[test]
fn the_secret_key_defaults_and_unknown_event_types_do_not_parse() {
    let hook = with_url("https://example.com/h");
    assert_eq!(hook.spec.secret_ref.key, "secret");
    assert!(hook.spec.event_types.is_empty(), "empty means every type");
    let unknown = serde_json::from_value::<WebhookEndpoint>(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": "hook"},
        "spec": {"url": "https://example.com", "secretRef": {"name": "s"},
                 "eventTypes": ["dev.liveops.reward.stolen"]},
    }));
    assert!(unknown.is_err());
}
