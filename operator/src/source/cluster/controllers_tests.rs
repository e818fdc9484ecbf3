//! The real controllers against an in-memory API server and PostgreSQL:
//! watches, phase transitions on time, a dangling reward resolving when its
//! event appears, the finalizer on deletion, and a graceful stop.

use std::{future::Future, sync::Arc, time::Duration};

use chrono::{DateTime, SubsecRound, Utc};
use liveops_testkit::TestDb;
use serde_json::{Value, json};

use super::run_controllers;
use crate::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};

pub(super) const NS: &str = "testns";

/// Polls `check` until it yields a value, failing after `deadline`.
pub(super) async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) fn event(name: &str, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Value {
    json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"displayName": name, "startsAt": starts_at, "endsAt": ends_at},
    })
}

pub(super) fn reward(name: &str, event: &str) -> Value {
    json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Reward",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"eventRef": {"name": event}, "displayName": name, "quantity": 4},
    })
}

fn phase_of(api: &FakeApi, name: &str) -> Option<String> {
    api.get("events", name)?["status"]["phase"]
        .as_str()
        .map(ToOwned::to_owned)
}

pub(super) fn ready_reason(api: &FakeApi, name: &str) -> Option<String> {
    let reward = api.get("rewards", name)?;
    let conditions = reward["status"]["conditions"].as_array()?.clone();
    conditions.iter().find(|c| c["type"] == "Ready")?["reason"]
        .as_str()
        .map(ToOwned::to_owned)
}

/// Waits until the event shows `phase`, and checks it did not before `not_before`.
async fn expect_phase(api: &FakeApi, name: &str, phase: &str, not_before: DateTime<Utc>) {
    let deadline = (not_before - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1);
    eventually(&format!("{name} {phase}"), deadline, || async {
        let seen = phase_of(api, name)?;
        if seen != phase {
            return None;
        }
        let at = Utc::now();
        assert!(
            at >= not_before,
            "{name} was {phase} at {at}, before {not_before}"
        );
        Some(())
    })
    .await;
}

#[tokio::test]
async fn the_controllers_move_an_event_through_its_phases_and_stop_gracefully() {
    let db = TestDb::new().await;
    let api = FakeApi::default();
    let starts_at = (Utc::now() + chrono::Duration::seconds(2)).trunc_subsecs(0);
    let ends_at = starts_at + chrono::Duration::seconds(1);
    api.put("events", event("flash", starts_at, ends_at));
    api.put("rewards", reward("coins", "flash"));
    api.put("rewards", reward("orphan", "later"));

    let ctx = Arc::new(Context::new(
        api.client(NS),
        db.pool.clone(),
        Metrics::new(),
        "test-0".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let controllers = tokio::spawn(run_controllers(ctx.clone(), Some(NS.to_owned()), stop));

    // Finalizer first, then the status; the dangling reward says why it waits.
    expect_phase(&api, "flash", "Scheduled", Utc::now()).await;
    let finalizers = api.get("events", "flash").expect("flash")["metadata"]["finalizers"].clone();
    assert_eq!(finalizers, json!([crate::controller::FINALIZER]));
    eventually("coins synced", Duration::from_secs(5), || async {
        (ready_reason(&api, "coins")? == "Synced").then_some(())
    })
    .await;
    eventually("orphan waits for its event", Duration::from_secs(5), || async {
        (ready_reason(&api, "orphan")? == "EventNotFound").then_some(())
    })
    .await;

    // On time, at each boundary, from the requeue alone.
    expect_phase(&api, "flash", "Active", starts_at).await;
    expect_phase(&api, "flash", "Ended", ends_at).await;
    eventually(
        "Kubernetes Events of each phase",
        Duration::from_secs(2),
        || async {
            let reasons = api.recorded_reasons("flash");
            ["Scheduled", "Active", "Ended"]
                .iter()
                .all(|phase| reasons.iter().any(|r| r == phase))
                .then_some(())
        },
    )
    .await;

    // The Event watch wakes the dangling reward when its event appears.
    api.put(
        "events",
        event("later", ends_at, ends_at + chrono::Duration::days(1)),
    );
    eventually("orphan resolves", Duration::from_secs(5), || async {
        (ready_reason(&api, "orphan")? == "Synced").then_some(())
    })
    .await;

    // Deletion: the row is soft-deleted, then the finalizer lets the object go.
    api.delete("events", "flash");
    eventually("flash gone", Duration::from_secs(5), || async {
        api.get("events", "flash").is_none().then_some(())
    })
    .await;
    let deleted = sqlx::query_scalar!(
        "select deleted_at is not null from events where namespace = $1 and name = 'flash'",
        NS
    )
    .fetch_one(&db.pool)
    .await
    .expect("the row stays");
    assert_eq!(deleted, Some(true));

    trigger.fire();
    tokio::time::timeout(Duration::from_secs(5), controllers)
        .await
        .expect("the controllers stop within 5 s")
        .expect("no panic");
    assert!(
        ctx.metrics.reconciles("Event") >= 4,
        "finalizer, Scheduled, Active, Ended"
    );
}

#[tokio::test]
async fn with_leader_election_only_the_lease_holder_reconciles() {
    let db = TestDb::new().await;
    let api = FakeApi::default();
    let now = Utc::now();
    api.put(
        "events",
        event(
            "season",
            now - chrono::Duration::hours(1),
            now + chrono::Duration::days(1),
        ),
    );
    let (trigger, stop) = shutdown::channel();
    let replicas: Vec<_> = ["op-a", "op-b"]
        .into_iter()
        .map(|identity| {
            let metrics = Metrics::new();
            let settings = super::ClusterSettings {
                watch_namespace: Some(NS.to_owned()),
                identity: identity.to_owned(),
                election: Some(crate::leader::Election {
                    lease_name: "liveops-operator".to_owned(),
                    namespace: NS.to_owned(),
                    identity: identity.to_owned(),
                }),
            };
            let started = crate::health::Started::default();
            let run = super::run(
                api.client(NS),
                db.pool.clone(),
                metrics.clone(),
                settings,
                started,
                stop.clone(),
            );
            (identity, metrics, tokio::spawn(run))
        })
        .collect();

    expect_phase(&api, "season", "Active", now).await;
    let leader = api.lease_holder().expect("someone holds the lease");
    for (identity, metrics, _) in &replicas {
        let reconciled = metrics.reconciles("Event");
        if *identity == leader {
            assert!(reconciled > 0, "the leader {identity} reconciles");
        } else {
            assert_eq!(reconciled, 0, "the standby {identity} does not reconcile");
        }
    }

    trigger.fire();
    for (identity, _, replica) in replicas {
        let stopped = tokio::time::timeout(Duration::from_secs(5), replica).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "{identity} stops cleanly: {stopped:?}"
        );
    }
    assert_eq!(api.lease_holder(), None, "the leader released the lease");
}
