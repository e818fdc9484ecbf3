//! The cluster controllers with thousands of objects against the fake API
//! server (issue 15): Events sharing a boundary all flip, in their rows (the
//! phase timer) and in their statuses (the controllers' requeue), and what
//! the reflectors store is trimmed. Not timed: deadlines are generous.

use std::{sync::Arc, time::Duration};

use chrono::{SubsecRound, Utc};
use liveops_domain::crd::{Event, EventSpec};
use liveops_testkit::TestDb;
use serde_json::json;

use super::{
    controllers_tests::{NS, event, eventually, reward},
    run_controllers,
    watch::trim,
};
use crate::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};

/// Events sharing one `startsAt`, with a Reward each.
const EVENTS: usize = 1_000;

#[tokio::test]
async fn a_thousand_events_sharing_a_boundary_all_flip_in_rows_and_statuses() {
    let db = TestDb::new().await;
    let api = FakeApi::default();
    let starts_at = (Utc::now() + chrono::Duration::seconds(20)).trunc_subsecs(0);
    let ends_at = starts_at + chrono::Duration::days(1);
    for i in 0..EVENTS {
        api.put("events", event(&format!("shared-{i:04}"), starts_at, ends_at));
        api.put(
            "rewards",
            reward(&format!("gift-{i:04}"), &format!("shared-{i:04}")),
        );
    }
    let ctx = Arc::new(Context::new(
        api.client(NS),
        db.pool.clone(),
        Metrics::new(),
        "test-0".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let controllers = tokio::spawn(run_controllers(ctx.clone(), Some(NS.to_owned()), stop));

    let total = i64::try_from(EVENTS).expect("fits");
    eventually("every row Scheduled", Duration::from_secs(60), || async {
        let scheduled: i64 = sqlx::query_scalar("select count(*) from events where phase = 'Scheduled'")
            .fetch_one(&db.pool)
            .await
            .expect("count");
        (scheduled == total).then_some(())
    })
    .await;
    assert!(
        Utc::now() < starts_at,
        "loading took longer than the test allows for"
    );
    // Each row is scheduled right after its upsert returns.
    eventually(
        "every row waits for its boundary",
        Duration::from_secs(30),
        || async { (ctx.phase_timer.pending() == EVENTS).then_some(()) },
    )
    .await;

    eventually("every row Active", Duration::from_secs(60), || async {
        let active: i64 = sqlx::query_scalar("select count(*) from events where phase = 'Active'")
            .fetch_one(&db.pool)
            .await
            .expect("count");
        (active == total).then_some(())
    })
    .await;
    let early: i64 = sqlx::query_scalar("select count(*) from events where updated_at < starts_at")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(early, 0, "no row flipped before its startsAt");
    eventually("every status Active", Duration::from_secs(60), || async {
        let active = api.count_where("events", |e| e["status"]["phase"] == "Active");
        (active == EVENTS).then_some(())
    })
    .await;
    eventually("every reward Synced", Duration::from_secs(60), || async {
        let synced = api.count_where("rewards", |r| r["status"]["conditions"][0]["reason"] == "Synced");
        (synced == EVENTS).then_some(())
    })
    .await;

    trigger.fire();
    tokio::time::timeout(Duration::from_secs(10), controllers)
        .await
        .expect("the controllers stop within 10 s")
        .expect("no panic");
}

#[test]
fn trimming_drops_what_reconcile_never_reads() {
    let now = Utc::now();
    let spec = EventSpec {
        display_name: "x".to_owned(),
        description: String::new(),
        starts_at: now,
        ends_at: now + chrono::Duration::days(1),
        announce_at: None,
        claim_until: None,
        time_zone: "UTC".to_owned(),
        condition: None,
        claim_policy: Default::default(),
        suspend: false,
        max_claims: None,
    };
    let mut event: Event = serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
        "metadata": {
            "name": "x", "namespace": NS, "uid": "u-1", "generation": 3,
            "finalizers": ["liveops.dev/cleanup"],
            "labels": {"team": "live"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
        },
        "spec": spec,
    }))
    .expect("an Event");
    trim(&mut event);
    let meta = &event.metadata;
    assert_eq!(
        (
            meta.managed_fields.as_ref(),
            meta.annotations.as_ref(),
            meta.labels.as_ref()
        ),
        (None, None, None)
    );
    assert_eq!(
        (meta.uid.as_deref(), meta.generation, meta.finalizers.as_deref()),
        (
            Some("u-1"),
            Some(3),
            Some(&["liveops.dev/cleanup".to_owned()][..])
        )
    );
}
