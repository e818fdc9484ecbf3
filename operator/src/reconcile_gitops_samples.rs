//! The objects `docs/gitops/testdata/objects.json` holds: Events,
//! Rewards and WebhookEndpoints with the statuses this reconcile computes
//! (valid, suspended, ended, invalid, database down, waiting for an Event
//! or a Secret, an unusable Secret, deliveries stopped by a 410, a stale
//! generation), so the Argo CD Lua check and the Flux CEL expressions in
//! `docs/gitops/` are tested against what the operator really writes
//! (`tests/chart/test_gitops_health.py`). The test fails when the committed
//! file differs; `UPDATE_GITOPS_SAMPLES=1` rewrites it.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Secret;
use liveops_domain::crd::{
    Counter, Event, IngestClient, Reward, SpecProblem, WebhookEndpoint,
    challenge_validation::ingest_client_spec_problems,
};
use serde_json::{Value, json};

use super::{
    counter::counter_outcome,
    event_outcome,
    ingest_client::ingest_client_outcome,
    reward_outcome,
    webhook::{WebhookProjection, webhook_outcome},
    webhook_secret::{SigningSecret, signing_secret},
};
use crate::{
    controller::status::database_unavailable,
    error::Error,
    projection::{CounterActivity, CounterProjection, RewardProjection, SignalActivity, WebhookHealth},
    schedule::schedule_at,
};

const COMMITTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../docs/gitops/testdata/objects.json"
);

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-10T12:00:00Z")
        .expect("valid instant")
        .with_timezone(&Utc)
}

fn event(name: &str, spec: Value) -> Event {
    let mut full =
        json!({"displayName": name, "startsAt": "2030-01-05T00:00:00Z", "endsAt": "2030-01-20T00:00:00Z"});
    if let (Some(full), Value::Object(spec)) = (full.as_object_mut(), spec) {
        full.extend(spec);
    }
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
        "metadata": {"name": name, "namespace": "games", "generation": 2},
        "spec": full,
    }))
    .expect("a valid Event")
}

fn reward(name: &str, quantity: i32) -> Reward {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Reward",
        "metadata": {"name": name, "namespace": "games", "generation": 1},
        "spec": {"eventRef": {"name": "spring"}, "displayName": name, "quantity": quantity},
    }))
    .expect("a valid Reward")
}

/// `event` with the status the reconcile computes for it at `now()`.
fn reconciled_event(mut event: Event) -> Event {
    let schedule = schedule_at(&event.spec, now());
    event.status = Some(event_outcome(&event, schedule, Some(7), None, now()).status);
    event
}

fn reconciled_reward(
    mut reward: Reward,
    projected: Option<RewardProjection>,
    problems: Vec<SpecProblem>,
) -> Reward {
    reward.status = Some(reward_outcome(&reward, projected, problems, now()).status);
    reward
}

fn endpoint(name: &str, suspend: bool) -> WebhookEndpoint {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": name, "namespace": "games", "generation": 1},
        "spec": {
            "url": "https://hooks.example.com/liveops", "eventTypes": ["dev.liveops.reward.claimed"],
            "secretRef": {"name": name, "key": "secret"}, "suspend": suspend,
        },
    }))
    .expect("a valid WebhookEndpoint")
}

/// `endpoint` with the status the reconcile computes from `projected`.
fn reconciled_endpoint(mut endpoint: WebhookEndpoint, projected: WebhookProjection) -> WebhookEndpoint {
    endpoint.status = Some(webhook_outcome(&endpoint, projected, Vec::new(), now()).status);
    endpoint
}

/// What the projection does with an endpoint whose Secret yields `secret`
/// (never usable here): stops it, with the reason the reconcile gives.
fn stopped(secret: SigningSecret) -> WebhookProjection {
    let (reason, message) = match secret {
        SigningSecret::NotFound(message) => ("SecretNotFound", message),
        SigningSecret::Invalid(message) => ("SecretInvalid", message),
        SigningSecret::Usable(_) => unreachable!("a usable secret is projected"),
    };
    WebhookProjection::Stopped {
        health: None,
        reason,
        message,
    }
}

/// The WebhookEndpoint samples: delivering, suspended, waiting for its
/// Secret, an unusable Secret, stopped by the receiver's 410.
fn endpoint_samples() -> [(&'static str, WebhookEndpoint); 5] {
    let delivering = WebhookHealth {
        last_success_at: Some(now()),
        last_status: Some(200),
        ..WebhookHealth::default()
    };
    let gone = WebhookHealth {
        last_failure_at: Some(now()),
        last_status: Some(410),
        consecutive_failures: 1,
        disabled_reason: Some("the receiver answered 410 Gone".to_owned()),
        ..WebhookHealth::default()
    };
    let reference = endpoint("empty", false).spec.secret_ref;
    let empty: Secret =
        serde_json::from_value(json!({"stringData": {"secret": "whsec_"}})).expect("a Secret");
    let missing = signing_secret(None, &reference, "games");
    let invalid = signing_secret(Some(&empty), &reference, "games");
    [
        (
            "webhook-ready",
            reconciled_endpoint(endpoint("shop", false), WebhookProjection::Projected(delivering)),
        ),
        (
            "webhook-suspended",
            reconciled_endpoint(
                endpoint("paused", true),
                WebhookProjection::Projected(WebhookHealth::default()),
            ),
        ),
        (
            "webhook-secret-not-found",
            reconciled_endpoint(endpoint("early", false), stopped(missing)),
        ),
        (
            "webhook-secret-invalid",
            reconciled_endpoint(endpoint("empty", false), stopped(invalid)),
        ),
        (
            "webhook-disabled",
            reconciled_endpoint(endpoint("gone", false), WebhookProjection::Projected(gone)),
        ),
    ]
}

/// The Counter and IngestClient samples: counting, waiting for its Event,
/// re-created with another aggregation; feeding, suspended, invalid.
fn challenge_samples() -> Vec<(&'static str, Value)> {
    let counter = |name: &str, aggregation: &str| -> Counter {
        serde_json::from_value(json!({
            "apiVersion": "liveops.dev/v1alpha1", "kind": "Counter",
            "metadata": {"name": name, "namespace": "games", "generation": 1},
            "spec": {"eventRef": {"name": "spring"}, "displayName": name, "aggregation": aggregation},
        }))
        .expect("a valid Counter")
    };
    let client = |name: &str, hash: &str, suspend: bool| -> IngestClient {
        serde_json::from_value(json!({
            "apiVersion": "liveops.dev/v1alpha1", "kind": "IngestClient",
            "metadata": {"name": name, "namespace": "games", "generation": 1},
            "spec": {"secretHashes": [hash], "counters": ["kills"], "suspend": suspend},
        }))
        .expect("a valid IngestClient")
    };
    let counted = |mut counter: Counter, projected: CounterProjection| {
        let activity = CounterActivity {
            signals: SignalActivity {
                last_signal_at: Some(now()),
                signals_per_minute: 12,
            },
            rewards: vec!["gems".to_owned()],
        };
        counter.status =
            Some(counter_outcome(&counter, Some(projected), Vec::new(), Some(activity), now()).status);
        json!(counter)
    };
    let fed = |mut client: IngestClient| {
        let problems = ingest_client_spec_problems(&client.spec);
        client.status = Some(ingest_client_outcome(&client, problems, None, now()).status);
        json!(client)
    };
    let hash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let changed = CounterProjection::LedgerMismatch {
        event: "spring".to_owned(),
        aggregation: "Sum".to_owned(),
    };
    vec![
        (
            "counter-ready",
            counted(counter("kills", "Sum"), CounterProjection::Projected),
        ),
        (
            "counter-waiting-for-event",
            counted(counter("early", "Sum"), CounterProjection::EventNotFound),
        ),
        (
            "counter-aggregation-changed",
            counted(counter("wins", "Max"), changed),
        ),
        ("ingest-client-ready", fed(client("game", hash, false))),
        ("ingest-client-suspended", fed(client("paused", hash, true))),
        ("ingest-client-invalid", fed(client("broken", "sha256:00", false))),
    ]
}

fn samples() -> Value {
    let active = reconciled_event(event("spring", json!({})));
    let mut database_down = active.clone();
    if let Some(status) = database_down.status.as_mut() {
        let error = Error::Database(sqlx::Error::PoolTimedOut);
        status.conditions = database_unavailable(&status.conditions, &error, Some(2), now());
    }
    let mut edited = active.clone();
    edited.metadata.generation = Some(3);
    let projected = RewardProjection::Projected {
        claimed: 3,
        quantity: Some(10),
    };
    let invalid_reward = reward("broken-gems", -1);
    let problems = liveops_domain::crd::validation::reward_spec_problems(&invalid_reward.spec);
    let moved = RewardProjection::EventRefChanged {
        event: "winter".to_owned(),
    };
    let mut fresh = event("fresh", json!({}));
    fresh.status = None;
    let mut samples = json!({
        "event-active": active,
        "event-suspended": reconciled_event(event("paused", json!({"suspend": true}))),
        "event-ended": reconciled_event(event("over", json!({"endsAt": "2030-01-06T00:00:00Z"}))),
        "event-invalid": reconciled_event(event("broken", json!({"timeZone": "Mars/Olympus"}))),
        "event-database-down": database_down,
        "event-edit-not-yet-seen": edited,
        "event-no-status": fresh,
        "reward-ready": reconciled_reward(reward("gems", 10), Some(projected), Vec::new()),
        "reward-waiting-for-event": reconciled_reward(reward("early", 5), Some(RewardProjection::EventNotFound), Vec::new()),
        "reward-invalid": reconciled_reward(invalid_reward, None, problems),
        "reward-event-ref-changed": reconciled_reward(reward("moved", 5), Some(moved), Vec::new()),
    });
    for (name, endpoint) in endpoint_samples() {
        samples[name] = json!(endpoint);
    }
    for (name, object) in challenge_samples() {
        samples[name] = object;
    }
    samples
}

#[test]
fn committed_gitops_samples_match_the_reconcile() {
    let generated = serde_json::to_string_pretty(&samples()).expect("serialise") + "\n";
    if std::env::var_os("UPDATE_GITOPS_SAMPLES").is_some() {
        std::fs::write(COMMITTED, &generated).expect("write the samples");
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/gitops/testdata/objects.json is stale: UPDATE_GITOPS_SAMPLES=1 cargo test -p operator --lib gitops_samples"
    );
}
