//! Controller tests against a scripted API server and a real PostgreSQL:
//! the fixtures shared by the event, reward and failure tests.

mod event;
mod failures;
mod reward;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use http::Method;
use kube::{Resource, runtime::controller::Action};
use liveops_domain::crd::{ClaimPolicy, Event, EventPhase, EventRef, EventSpec, Reward, RewardSpec};
use liveops_testkit::TestDb;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    FINALIZER, error_policy, failure_reason,
    mock_api::{Scenario, Step, context, finished},
    reconcile,
};
use crate::{
    crdgen::printer::cell,
    projection::{Kind, definition_id},
};

const NS: &str = "testns";
const EVENTS: &str = "/apis/liveops.dev/v1alpha1/namespaces/testns/events";
const REWARDS: &str = "/apis/liveops.dev/v1alpha1/namespaces/testns/rewards";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

fn fixed_clock() -> crate::controller::Clock {
    Arc::new(now)
}

/// An Event in `testns` whose window is `[now + starts_in, now + ends_in)`.
fn event(name: &str, starts_in: chrono::Duration, ends_in: chrono::Duration) -> Event {
    let spec = EventSpec {
        display_name: format!("{name} event"),
        description: String::new(),
        starts_at: now() + starts_in,
        ends_at: now() + ends_in,
        announce_at: None,
        claim_until: None,
        time_zone: "UTC".to_owned(),
        condition: None,
        claim_policy: ClaimPolicy::default(),
        suspend: false,
        max_claims: None,
    };
    let mut event = Event::new(name, spec);
    let meta = event.meta_mut();
    meta.namespace = Some(NS.to_owned());
    meta.uid = Some(Uuid::new_v4().to_string());
    meta.generation = Some(3);
    meta.resource_version = Some("100".to_owned());
    event
}

fn reward(name: &str, event_name: &str) -> Reward {
    let spec = RewardSpec {
        event_ref: EventRef {
            name: event_name.to_owned(),
        },
        display_name: format!("{name} reward"),
        description: String::new(),
        quantity: Some(10),
        per_user_limit: 1,
        payload: None,
        requires: None,
    };
    let mut reward = Reward::new(name, spec);
    let meta = reward.meta_mut();
    meta.namespace = Some(NS.to_owned());
    meta.uid = Some(Uuid::new_v4().to_string());
    meta.generation = Some(2);
    reward
}

fn finalized<K: Resource>(mut object: K) -> K {
    object.meta_mut().finalizers = Some(vec![FINALIZER.to_owned()]);
    object
}

fn deleting<K: Resource>(mut object: K) -> K {
    object.meta_mut().deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now(),
    ));
    object
}

/// `(type, status, reason)` of each condition of `status`, after checking
/// each has the metav1.Condition fields, a message and `generation`.
fn kstatus(status: &Value, generation: i64) -> Vec<(String, String, String)> {
    let conditions = status["conditions"].as_array().cloned().unwrap_or_default();
    conditions
        .iter()
        .map(|condition| {
            assert_eq!(condition["observedGeneration"], generation, "{condition}");
            assert!(condition["lastTransitionTime"].is_string(), "{condition}");
            assert!(
                !condition["message"].as_str().unwrap_or_default().is_empty(),
                "{condition}"
            );
            let field = |name: &str| condition[name].as_str().unwrap_or_default().to_owned();
            (field("type"), field("status"), field("reason"))
        })
        .collect()
}

/// `(type, status, reason)` as owned strings, for comparing with [`kstatus`].
fn expected(conditions: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    conditions
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

/// What `kubectl get` prints for `object` carrying the applied `status`.
fn printed<T: serde::Serialize>(kind: &str, object: &T, status: &Value) -> Vec<(String, String)> {
    let mut object = json_of(object);
    object["status"] = status.clone();
    crate::crdgen::printer::row(kind, &object)
}

fn json_of<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).expect("serialise")
}

/// The id the projection gives the object's new row: derived from
/// namespace/name, never from the uid (so a re-created object keeps it).
fn row_id_of<K: Resource<DynamicType = ()>>(object: &K) -> Uuid {
    let kind = match K::kind(&()).as_ref() {
        "Event" => Kind::Event,
        _ => Kind::Reward,
    };
    definition_id(kind, NS, object.meta().name.as_deref().expect("name"))
}

async fn event_row_phase(db: &sqlx::PgPool, id: Uuid) -> Option<EventPhase> {
    sqlx::query_scalar!(
        r#"select phase as "phase: EventPhase" from events where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
    .expect("query events")
}
