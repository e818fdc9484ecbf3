//! Counters and IngestClients in manifests mode, over a temporary directory
//! and real PostgreSQL, one rescan at a time: projection, an edit, a refused
//! edit of an immutable field, an Event appearing late, the signal activity
//! and requiring Rewards mirrored into the statuses, and deletion.

use chrono::{Duration, SecondsFormat, Utc};
use liveops_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::identity_tests::{Directory, loaded};
use crate::crdgen::printer::{cell, row};

const HASH: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn event_yaml(name: &str) -> String {
    let at = |offset: Duration| (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Secs, true);
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: {name}\nspec:\n  displayName: {name}\n  \
         startsAt: \"{}\"\n  endsAt: \"{}\"\n",
        at(-Duration::days(1)),
        at(Duration::days(30)),
    )
}

fn counter_yaml(name: &str, event: &str, display: &str, aggregation: &str) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Counter\nmetadata:\n  name: {name}\nspec:\n  eventRef:\n    \
         name: {event}\n  displayName: {display}\n  aggregation: {aggregation}\n"
    )
}

fn client_yaml(suspend: bool) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: IngestClient\nmetadata:\n  name: game\nspec:\n  secretHashes:\n  \
         - \"{HASH}\"\n  counters: [kills]\n  signalsPerMinute: 600\n  suspend: {suspend}\n"
    )
}

fn reward_yaml() -> String {
    "apiVersion: liveops.dev/v1alpha1\nkind: Reward\nmetadata:\n  name: tier1\nspec:\n  eventRef:\n    \
     name: week\n  displayName: Tier 1\n"
        .to_owned()
}

async fn status(db: &PgPool, kind: &str, name: &str) -> Value {
    sqlx::query_scalar("select status from resource_status where kind = $1 and name = $2")
        .bind(kind)
        .bind(name)
        .fetch_optional(db)
        .await
        .expect("read resource_status")
        .unwrap_or(Value::Null)
}

fn ready(status: &Value) -> (String, String) {
    let ready = status["conditions"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["type"] == "Ready"))
        .cloned()
        .unwrap_or(Value::Null);
    let field = |name: &str| ready[name].as_str().unwrap_or_default().to_owned();
    (field("status"), field("reason"))
}

/// `(display name, aggregation, event name, generation, deleted)` of a counter row.
async fn counter_row(db: &PgPool, name: &str) -> Option<(String, String, String, i64, bool)> {
    sqlx::query_as(
        "select c.display_name, c.aggregation::text, e.name, c.generation, c.deleted_at is not null
         from counters c join events e on e.id = c.event_id where c.name = $1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
    .expect("read counters")
}

/// Two signals for `kills` from `game`, received now.
async fn signal_twice(db: &PgPool) {
    let user: Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash, birth_date, invite_code)
         values ('p@example.com', 'x', '2000-01-01', 'INV1') returning id",
    )
    .fetch_one(db)
    .await
    .expect("a user");
    sqlx::query(
        "insert into counter_signals (counter_id, signal_id, user_id, client_id, occurred_at, amount)
         select c.id, s, $1, i.id, now(), 3
         from counters c, ingest_clients i, unnest(array['s1', 's2']) as s
         where c.name = 'kills' and i.name = 'game'",
    )
    .bind(user)
    .execute(db)
    .await
    .expect("signals");
}

#[tokio::test]
async fn counters_and_clients_are_projected_edited_mirrored_and_deleted() {
    let db = TestDb::new().await;
    let dir = Directory::new();
    dir.write("event.yaml", &event_yaml("week"));
    dir.write("kills.yaml", &counter_yaml("kills", "week", "Kills", "Sum"));
    dir.write("late.yaml", &counter_yaml("late", "later", "Late", "Max"));
    dir.write("client.yaml", &client_yaml(false));
    dir.write("reward.yaml", &reward_yaml());
    let mut state = loaded(&db.pool, &dir).await;

    let kills = counter_row(&db.pool, "kills").await;
    assert_eq!(
        kills,
        Some(("Kills".into(), "Sum".into(), "week".into(), 1, false))
    );
    assert_eq!(
        ready(&status(&db.pool, "Counter", "kills").await),
        ("True".into(), "Synced".into())
    );
    // A dangling eventRef waits (Reconciling), with no row, until the Event comes.
    assert_eq!(counter_row(&db.pool, "late").await, None);
    assert_eq!(
        ready(&status(&db.pool, "Counter", "late").await),
        ("False".into(), "EventNotFound".into())
    );
    let (hashes, counters, rate, suspended): (Vec<Vec<u8>>, Vec<String>, i32, bool) = sqlx::query_as(
        "select secret_hashes, counters, signals_per_minute, suspended from ingest_clients where name = 'game'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the client row");
    assert_eq!(hashes.len(), 1);
    assert_eq!(hashes[0].len(), 32);
    assert_eq!(hashes[0][..2], [0x9f, 0x86]);
    assert_eq!(
        (counters, rate, suspended),
        (vec!["kills".to_owned()], 600, false)
    );
    assert_eq!(
        ready(&status(&db.pool, "IngestClient", "game").await),
        ("True".into(), "Synced".into())
    );

    // The Event appears: the waiting counter is projected in the same rescan.
    dir.write("later.yaml", &event_yaml("later"));
    state.rescan().await;
    assert_eq!(
        counter_row(&db.pool, "late").await.map(|row| row.2),
        Some("later".into())
    );
    assert_eq!(ready(&status(&db.pool, "Counter", "late").await).1, "Synced");

    // An edit lands as generation 2; an aggregation change is refused.
    dir.write("kills.yaml", &counter_yaml("kills", "week", "Frags", "Sum"));
    state.rescan().await;
    assert_eq!(
        counter_row(&db.pool, "kills").await.map(|r| (r.0, r.3)),
        Some(("Frags".into(), 2))
    );
    dir.write("kills.yaml", &counter_yaml("kills", "week", "Frags", "Max"));
    state.rescan().await;
    assert_eq!(
        counter_row(&db.pool, "kills").await.map(|r| r.1),
        Some("Sum".into())
    );
    let refused = status(&db.pool, "Counter", "kills").await;
    assert_eq!(ready(&refused), ("False".into(), "ImmutableFieldChanged".into()));
    dir.write("kills.yaml", &counter_yaml("kills", "week", "Frags", "Sum"));
    state.rescan().await;
    assert_eq!(ready(&status(&db.pool, "Counter", "kills").await).1, "Synced");

    // Signals and a requiring Reward reach the statuses on the next pass.
    signal_twice(&db.pool).await;
    let requires =
        json!({"allOf": [{"anyOf": [{"counter": {"name": "kills", "atLeast": 5, "window": "Event"}}]}]});
    sqlx::query("update rewards set requires = $1 where name = 'tier1'")
        .bind(&requires)
        .execute(&db.pool)
        .await
        .expect("requires");
    state.mirror_activity().await.expect("mirror");
    let shown = status(&db.pool, "Counter", "kills").await;
    assert_eq!(shown["signalsPerMinute"], 2);
    assert_eq!(shown["rewards"], json!(["tier1"]));
    assert!(shown["lastSignalAt"].is_string(), "{shown}");
    let object = json!({"spec": {"eventRef": {"name": "week"}, "aggregation": "Sum"}, "status": shown});
    assert_eq!(cell(&row("Counter", &object), "Signals/min"), "2");
    assert_eq!(
        status(&db.pool, "IngestClient", "game").await["signalsPerMinute"],
        2
    );
    assert_eq!(status(&db.pool, "Counter", "late").await["signalsPerMinute"], 0);

    // Suspend, then delete: the rows follow, the statuses go.
    dir.write("client.yaml", &client_yaml(true));
    state.rescan().await;
    assert_eq!(
        ready(&status(&db.pool, "IngestClient", "game").await).1,
        "Suspended"
    );
    let suspended: bool = sqlx::query_scalar("select suspended from ingest_clients where name = 'game'")
        .fetch_one(&db.pool)
        .await
        .expect("client");
    assert!(suspended);
    std::fs::remove_file(dir.path().join("kills.yaml")).expect("remove");
    std::fs::remove_file(dir.path().join("client.yaml")).expect("remove");
    state.rescan().await;
    assert_eq!(counter_row(&db.pool, "kills").await.map(|r| r.4), Some(true));
    let deleted: bool =
        sqlx::query_scalar("select deleted_at is not null from ingest_clients where name = 'game'")
            .fetch_one(&db.pool)
            .await
            .expect("client");
    assert!(deleted);
    assert_eq!(status(&db.pool, "Counter", "kills").await, Value::Null);
    assert_eq!(status(&db.pool, "IngestClient", "game").await, Value::Null);
}

#[tokio::test]
async fn an_invalid_client_edit_suspends_the_row_until_fixed() {
    let db = TestDb::new().await;
    let dir = Directory::new();
    dir.write("client.yaml", &client_yaml(false));
    let mut state = loaded(&db.pool, &dir).await;
    dir.write("client.yaml", &client_yaml(false).replace(HASH, "sha256:BAD"));
    state.rescan().await;
    let shown = status(&db.pool, "IngestClient", "game").await;
    assert_eq!(ready(&shown), ("False".into(), "InvalidSpec".into()));
    let suspended: bool = sqlx::query_scalar("select suspended from ingest_clients where name = 'game'")
        .fetch_one(&db.pool)
        .await
        .expect("client");
    assert!(suspended, "fail closed while the spec is invalid");
    dir.write("client.yaml", &client_yaml(false));
    state.rescan().await;
    let resumed: bool = sqlx::query_scalar("select not suspended from ingest_clients where name = 'game'")
        .fetch_one(&db.pool)
        .await
        .expect("client");
    assert!(resumed);
}
