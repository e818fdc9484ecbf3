//! Manifests mode keeps a definition's ledger by namespace/name and
//! enforces the CRDs' transition rules: each test drives [`ManifestState`]
//! (what `run` drives every rescan) over a temporary directory and real
//! PostgreSQL, one rescan at a time, so no step waits on a timer.

use std::path::PathBuf;

use chrono::{Duration, SecondsFormat, Utc};
use liveops_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::state::ManifestState;
use crate::metrics::Metrics;

pub(super) struct Directory(PathBuf);

impl Directory {
    pub(super) fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("liveops-identity-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the manifests directory");
        Self(dir)
    }

    /// Writes then renames, so a rescan never reads half a file.
    pub(super) fn write(&self, file: &str, yaml: &str) {
        let partial = self.0.join(format!(".{}.partial", Uuid::new_v4()));
        std::fs::write(&partial, yaml).expect("write the manifest");
        std::fs::rename(&partial, self.0.join(file)).expect("move the manifest in place");
    }

    pub(super) fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.0.join(file)).expect("remove the manifest");
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn event_yaml(name: &str) -> String {
    let at = |offset: Duration| (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Secs, true);
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: {name}\nspec:\n  displayName: {name}\n  \
         startsAt: \"{}\"\n  endsAt: \"{}\"\n  claimPolicy:\n    maxRewardsPerUser: 2\n",
        at(-Duration::days(1)),
        at(Duration::days(30)),
    )
}

fn reward_yaml(event: &str, quantity: i32) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Reward\nmetadata:\n  name: gold\nspec:\n  eventRef:\n    \
         name: {event}\n  displayName: Gold\n  quantity: {quantity}\n"
    )
}

/// `(id, event name, quantity, claimed, deleted)` of the `gold` reward row.
async fn gold(db: &PgPool) -> (Uuid, String, Option<i32>, i32, bool) {
    sqlx::query_as(
        "select r.id, e.name, r.quantity, r.claimed, r.deleted_at is not null
         from rewards r join events e on e.id = r.event_id where r.name = 'gold'",
    )
    .fetch_one(db)
    .await
    .expect("the gold row")
}

/// The Ready condition `gold`'s stored status carries.
async fn gold_ready(db: &PgPool) -> Value {
    let status: Value =
        sqlx::query_scalar("select status from resource_status where kind = 'Reward' and name = 'gold'")
            .fetch_one(db)
            .await
            .expect("gold's status");
    status["conditions"][0].clone()
}

pub(super) async fn loaded(db: &PgPool, dir: &Directory) -> ManifestState {
    let mut state = ManifestState::restore(dir.0.clone(), db.clone(), Metrics::new())
        .await
        .expect("restore");
    state.rescan().await;
    state
}

#[tokio::test]
async fn an_edited_event_ref_is_refused_and_the_old_event_keeps_the_reward() {
    let db = TestDb::new().await;
    let dir = Directory::new();
    dir.write(
        "events.yaml",
        &format!("{}---\n{}", event_yaml("week"), event_yaml("season")),
    );
    dir.write("gold.yaml", &reward_yaml("week", 5));
    let mut state = loaded(&db.pool, &dir).await;
    let (id, event, ..) = gold(&db.pool).await;
    assert_eq!(event, "week");
    let max: Option<i32> = sqlx::query_scalar("select max_rewards_per_user from events where name = 'week'")
        .fetch_one(&db.pool)
        .await
        .expect("event row");
    assert_eq!(max, Some(2), "claimPolicy.maxRewardsPerUser is projected");

    // One edit moving the reward and changing its stock: refused as a whole.
    dir.write("gold.yaml", &reward_yaml("season", 50));
    state.rescan().await;
    assert_eq!(gold(&db.pool).await, (id, "week".to_owned(), Some(5), 0, false));
    let refused = gold_ready(&db.pool).await;
    assert_eq!(
        (&refused["status"], &refused["reason"]),
        (&Value::from("False"), &Value::from("ImmutableFieldChanged"))
    );
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("spec.eventRef: eventRef is immutable") && message.contains("last accepted spec"),
        "{message}"
    );
    // The resync re-reconciles the spec in force; the refusal stays, unchanged.
    state.resync().await;
    assert_eq!(gold_ready(&db.pool).await, refused);

    // Back to its event: accepted again (the stock edit with it).
    dir.write("gold.yaml", &reward_yaml("week", 7));
    state.rescan().await;
    assert_eq!(gold(&db.pool).await, (id, "week".to_owned(), Some(7), 0, false));
    assert_eq!(gold_ready(&db.pool).await["reason"], "Synced");
}

#[tokio::test]
async fn a_reward_deleted_and_re_created_keeps_its_row_and_refuses_another_event() {
    let db = TestDb::new().await;
    let dir = Directory::new();
    dir.write(
        "events.yaml",
        &format!("{}---\n{}", event_yaml("week"), event_yaml("season")),
    );
    dir.write("gold.yaml", &reward_yaml("week", 5));
    let mut state = loaded(&db.pool, &dir).await;
    let (id, ..) = gold(&db.pool).await;
    // What three successful claims leave behind.
    sqlx::query("update rewards set claimed = 3 where id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .expect("claim");

    dir.remove("gold.yaml");
    state.rescan().await;
    assert_eq!(gold(&db.pool).await, (id, "week".to_owned(), Some(5), 3, true));

    // Re-created under another event: refused, the ledger stays with week.
    dir.write("gold.yaml", &reward_yaml("season", 5));
    state.rescan().await;
    assert_eq!(gold(&db.pool).await, (id, "week".to_owned(), Some(5), 3, true));
    let ready = gold_ready(&db.pool).await;
    assert_eq!(ready["reason"], "EventRefChanged");
    assert!(
        ready["message"]
            .as_str()
            .is_some_and(|m| m.contains("belongs to Event week") && m.contains("new name")),
        "{ready}"
    );

    // Re-created under its event: same row, stock claimed carries on.
    dir.write("gold.yaml", &reward_yaml("week", 4));
    state.rescan().await;
    assert_eq!(gold(&db.pool).await, (id, "week".to_owned(), Some(4), 3, false));
    let status: Value =
        sqlx::query_scalar("select status from resource_status where kind = 'Reward' and name = 'gold'")
            .fetch_one(&db.pool)
            .await
            .expect("status");
    assert_eq!(
        (&status["claimed"], &status["remaining"]),
        (&Value::from(3), &Value::from(1))
    );
}

#[tokio::test]
async fn rows_a_cluster_made_under_object_uids_are_taken_over_with_their_ledger() {
    let db = TestDb::new().await;
    let (event_id, reward_id) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation,
                             claims_total)
         values ($1, 'default', 'week', 'week', now() - interval '1 day', now() + interval '1 day',
                 'Active', 3, 2)",
    )
    .bind(event_id)
    .execute(&db.pool)
    .await
    .expect("cluster event row");
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, claimed, generation)
         values ($1, $2, 'default', 'gold', 'Gold', 5, 2, 1)",
    )
    .bind(reward_id)
    .bind(event_id)
    .execute(&db.pool)
    .await
    .expect("cluster reward row");

    let dir = Directory::new();
    dir.write(
        "week.yaml",
        &format!("{}---\n{}", event_yaml("week"), reward_yaml("week", 5)),
    );
    let _state = loaded(&db.pool, &dir).await;
    assert_eq!(
        gold(&db.pool).await,
        (reward_id, "week".to_owned(), Some(5), 2, false)
    );
    let events: Vec<(Uuid, i32)> = sqlx::query_as("select id, claims_total from events")
        .fetch_all(&db.pool)
        .await
        .expect("events");
    assert_eq!(events, vec![(event_id, 2)], "one row, its id and count kept");
}
