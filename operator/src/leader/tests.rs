//! Leader election against an in-memory Lease API: only the holder leads,
//! an expired holder is replaced, and shutdown releases the Lease.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{SecondsFormat, Utc};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::{Client, client::Body};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower_test::mock;

use super::{Election, run_while_leader};
use crate::shutdown;

const LEASE_PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/ops/leases/liveops-operator";

/// The one Lease object the fake API server holds (`Null` = absent).
type LeaseStore = Arc<Mutex<Value>>;

/// A client whose API server only knows the one Lease, kept in `store`.
fn lease_api(store: LeaseStore) -> Client {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let bytes = request.into_body().collect().await.expect("body").to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let (status, answer) = answer(&store, &method, &path, body);
            let response = Response::builder()
                .status(status)
                .body(Body::from(serde_json::to_vec(&answer).expect("JSON")))
                .expect("response");
            send.send_response(response);
        }
    });
    Client::new(service, "ops")
}

fn answer(store: &LeaseStore, method: &Method, path: &str, body: Value) -> (StatusCode, Value) {
    let mut lease = store.lock().expect("lease store");
    let is_lease = path == LEASE_PATH;
    match (method, is_lease) {
        (&Method::GET, true) if !lease.is_null() => (StatusCode::OK, lease.clone()),
        (&Method::POST, false) if path == LEASE_PATH.trim_end_matches("/liveops-operator") => {
            *lease = body;
            lease["metadata"]["namespace"] = json!("ops");
            lease["metadata"]["resourceVersion"] = json!("1");
            (StatusCode::CREATED, lease.clone())
        }
        (&Method::PATCH, true) if !lease.is_null() => {
            // Apply and strategic merge patches of `spec` behave as a JSON
            // merge here: null removes a field.
            let spec = lease["spec"].as_object().cloned().unwrap_or_default();
            let mut merged = spec;
            for (key, value) in body["spec"].as_object().cloned().unwrap_or_default() {
                if value.is_null() {
                    merged.remove(&key);
                } else {
                    merged.insert(key, value);
                }
            }
            lease["spec"] = Value::Object(merged);
            (StatusCode::OK, lease.clone())
        }
        _ => (
            StatusCode::NOT_FOUND,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "reason": "NotFound", "code": 404, "message": format!("{method} {path}")}),
        ),
    }
}

fn election(identity: &str) -> Election {
    Election {
        lease_name: "liveops-operator".to_owned(),
        namespace: "ops".to_owned(),
        identity: identity.to_owned(),
    }
}

fn holder(store: &LeaseStore) -> Option<String> {
    store.lock().expect("lease store")["spec"]["holderIdentity"]
        .as_str()
        .map(ToOwned::to_owned)
}

#[tokio::test]
async fn the_holder_leads_and_releases_the_lease_on_shutdown() {
    let store = LeaseStore::default();
    let (trigger, stop) = shutdown::channel();
    let (led, mut leading) = mpsc::unbounded_channel();
    let lead_stop = stop.clone();
    let elector = tokio::spawn(run_while_leader(
        lease_api(store.clone()),
        election("op-0"),
        stop.wait(),
        move || {
            let led = led.clone();
            let stop = lead_stop.clone();
            async move {
                let _ = led.send(());
                stop.wait().await;
            }
        },
    ));

    tokio::time::timeout(Duration::from_secs(5), leading.recv())
        .await
        .expect("became leader within 5 s");
    assert_eq!(holder(&store).as_deref(), Some("op-0"));

    trigger.fire();
    let outcome = tokio::time::timeout(Duration::from_secs(5), elector)
        .await
        .expect("stops within 5 s");
    assert!(matches!(outcome, Ok(Ok(()))), "{outcome:?}");
    assert_eq!(holder(&store), None, "the lease is released for a standby");
}

#[tokio::test]
async fn a_standby_waits_for_the_holders_lease_to_expire() {
    // Another replica renewed 13 s ago with a 15 s lease: it expires in 2 s.
    let renewed = Utc::now() - chrono::Duration::seconds(13);
    let expires = renewed + chrono::Duration::seconds(15);
    let store: LeaseStore = Arc::new(Mutex::new(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "liveops-operator", "namespace": "ops", "resourceVersion": "7"},
        "spec": {
            "holderIdentity": "op-other",
            "leaseDurationSeconds": 15,
            "acquireTime": renewed.to_rfc3339_opts(SecondsFormat::Micros, true),
            "renewTime": renewed.to_rfc3339_opts(SecondsFormat::Micros, true),
        },
    })));
    let (trigger, stop) = shutdown::channel();
    let (led, mut leading) = mpsc::unbounded_channel();
    let lead_stop = stop.clone();
    let elector = tokio::spawn(run_while_leader(
        lease_api(store.clone()),
        election("op-1"),
        stop.wait(),
        move || {
            let led = led.clone();
            let stop = lead_stop.clone();
            async move {
                let _ = led.send(Utc::now());
                stop.wait().await;
            }
        },
    ));

    let became_leader = tokio::time::timeout(Duration::from_secs(8), leading.recv())
        .await
        .expect("took over within 8 s")
        .expect("lead ran");
    assert!(
        became_leader >= expires,
        "led at {became_leader}, before the other lease expired at {expires}"
    );
    assert_eq!(holder(&store).as_deref(), Some("op-1"));

    trigger.fire();
    let outcome = tokio::time::timeout(Duration::from_secs(5), elector)
        .await
        .expect("stops within 5 s");
    assert!(matches!(outcome, Ok(Ok(()))), "{outcome:?}");
}
