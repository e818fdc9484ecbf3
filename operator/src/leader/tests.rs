//! Leader election against the in-memory API server: only the holder leads,
//! an expired holder is replaced, and shutdown releases the Lease.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::json;
use tokio::sync::mpsc;

use super::{Election, run_while_leader};
use crate::{fake_api::FakeApi, shutdown};

fn election(identity: &str) -> Election {
    Election {
        lease_name: "liveops-operator".to_owned(),
        namespace: "ops".to_owned(),
        identity: identity.to_owned(),
    }
}

#[tokio::test]
async fn the_holder_leads_and_releases_the_lease_on_shutdown() {
    let api = FakeApi::default();
    let (trigger, stop) = shutdown::channel();
    let (led, mut leading) = mpsc::unbounded_channel();
    let lead_stop = stop.clone();
    let elector = tokio::spawn(run_while_leader(
        api.client("ops"),
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
    assert_eq!(api.lease_holder().as_deref(), Some("op-0"));

    trigger.fire();
    let outcome = tokio::time::timeout(Duration::from_secs(5), elector)
        .await
        .expect("stops within 5 s");
    assert!(matches!(outcome, Ok(Ok(()))), "{outcome:?}");
    assert_eq!(api.lease_holder(), None, "the lease is released for a standby");
}

#[tokio::test]
async fn a_standby_waits_for_the_holders_lease_to_expire() {
    // Another replica renewed 13 s ago with a 15 s lease: it expires in 2 s.
    let renewed = Utc::now() - chrono::Duration::seconds(13);
    let expires = renewed + chrono::Duration::seconds(15);
    let api = FakeApi::default();
    api.set_lease(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "liveops-operator", "namespace": "ops", "resourceVersion": "7"},
        "spec": {
            "holderIdentity": "op-other",
            "leaseDurationSeconds": 15,
            "acquireTime": renewed.to_rfc3339_opts(SecondsFormat::Micros, true),
            "renewTime": renewed.to_rfc3339_opts(SecondsFormat::Micros, true),
        },
    }));
    let (trigger, stop) = shutdown::channel();
    let (led, mut leading) = mpsc::unbounded_channel();
    let lead_stop = stop.clone();
    let elector = tokio::spawn(run_while_leader(
        api.client("ops"),
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
    assert_eq!(api.lease_holder().as_deref(), Some("op-1"));

    trigger.fire();
    let outcome = tokio::time::timeout(Duration::from_secs(5), elector)
        .await
        .expect("stops within 5 s");
    assert!(matches!(outcome, Ok(Ok(()))), "{outcome:?}");
}
