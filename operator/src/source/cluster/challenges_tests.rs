//! The Counter and IngestClient controllers against the in-memory API
//! server and a real PostgreSQL: a Counter waiting for its Event, then
//! projected when the Event appears; a client's secret digests in its row;
//! signals mirrored into both statuses within the poll cadence; deletion
//! through the finalizer.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use liveops_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    controllers_tests::{NS, event, eventually},
    run_controllers,
};
use crate::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};

const WAIT: Duration = Duration::from_secs(15);
const HASH: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn counter(name: &str, event: &str) -> Value {
    json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Counter",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"eventRef": {"name": event}, "displayName": "Kills", "aggregation": "Sum", "maxAmount": 100},
    })
}

fn client() -> Value {
    json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "IngestClient",
        "metadata": {"name": "game", "namespace": NS},
        "spec": {"secretHashes": [HASH], "counters": ["kills"]},
    })
}

fn ready_reason(api: &FakeApi, plural: &str, name: &str) -> Option<String> {
    let object = api.get(plural, name)?;
    let ready = object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")?
        .clone();
    ready["reason"].as_str().map(str::to_owned)
}

async fn until_reason(api: &FakeApi, plural: &str, name: &str, reason: &str) {
    eventually(&format!("{plural}/{name} {reason}"), WAIT, || async {
        (ready_reason(api, plural, name).as_deref() == Some(reason)).then_some(())
    })
    .await;
}

async fn signal(db: &PgPool, id: &str) {
    let user: Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash, birth_date, invite_code)
         values ($1, 'x', '2000-01-01', $1) returning id",
    )
    .bind(format!("{id}@example.com"))
    .fetch_one(db)
    .await
    .expect("a user");
    sqlx::query(
        "insert into counter_signals (counter_id, signal_id, user_id, client_id, occurred_at, amount)
         select c.id, $1, $2, i.id, now(), 1 from counters c, ingest_clients i
         where c.name = 'kills' and i.name = 'game'",
    )
    .bind(id)
    .bind(user)
    .execute(db)
    .await
    .expect("a signal");
}

#[tokio::test]
async fn counters_wait_for_their_event_and_mirror_signals_into_their_status() {
    let db = TestDb::new().await;
    let api = FakeApi::default();
    api.put("counters", counter("kills", "week"));
    api.put("ingestclients", client());
    let ctx = Arc::new(Context::new(
        api.client(NS),
        db.pool.clone(),
        Metrics::new(),
        "test-0".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let controllers = tokio::spawn(run_controllers(ctx, Some(NS.to_owned()), stop));

    until_reason(&api, "counters", "kills", "EventNotFound").await;
    until_reason(&api, "ingestclients", "game", "Synced").await;
    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar("select secret_hashes from ingest_clients where name = 'game'")
            .fetch_one(&db.pool)
            .await
            .expect("the client row");
    assert_eq!(hashes.iter().map(Vec::len).collect::<Vec<_>>(), [32]);

    // The Event appears: its watch wakes the waiting Counter.
    let now = Utc::now();
    api.put(
        "events",
        event(
            "week",
            now - chrono::Duration::hours(1),
            now + chrono::Duration::days(7),
        ),
    );
    until_reason(&api, "counters", "kills", "Synced").await;
    let (aggregation, max): (String, Option<i64>) =
        sqlx::query_as("select aggregation::text, max_amount from counters where name = 'kills'")
            .fetch_one(&db.pool)
            .await
            .expect("the counter row");
    assert_eq!((aggregation.as_str(), max), ("Sum", Some(100)));

    // Signals reach both statuses through the activity poll.
    signal(&db.pool, "a").await;
    signal(&db.pool, "b").await;
    eventually("signals in the statuses", WAIT, || async {
        let counter = api.get("counters", "kills")?;
        let client = api.get("ingestclients", "game")?;
        (counter["status"]["signalsPerMinute"] == 2
            && client["status"]["signalsPerMinute"] == 2
            && counter["status"]["lastSignalAt"].is_string())
        .then_some(())
    })
    .await;

    // Deletion: the finalizer soft-deletes the row, then lets the object go.
    api.delete("counters", "kills");
    eventually("counter gone", WAIT, || async {
        api.get("counters", "kills").is_none().then_some(())
    })
    .await;
    let deleted: bool =
        sqlx::query_scalar("select deleted_at is not null from counters where name = 'kills'")
            .fetch_one(&db.pool)
            .await
            .expect("the counter row");
    assert!(deleted);

    trigger.fire();
    tokio::time::timeout(Duration::from_secs(5), controllers)
        .await
        .expect("the controllers stop within 5 s")
        .expect("no panic");
}
