//! Manifests mode writes the same kstatus conditions as the cluster
//! controllers: Ready, Stalled for a spec only an edit can fix, Reconciling
//! while a Reward waits for its Event; asserted on the stored statuses and
//! on the row `kubectl get` would print for them.

use chrono::{Duration, SecondsFormat, Utc};
use liveops_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;

use super::identity_tests::{Directory, loaded};
use crate::crdgen::printer::{cell, row};

fn at(offset: Duration) -> String {
    (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn event_yaml(name: &str, starts: &str, ends: &str) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: {name}\nspec:\n  displayName: {name}\n  \
         startsAt: \"{starts}\"\n  endsAt: \"{ends}\"\n"
    )
}

fn reward_yaml(name: &str, event: &str) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Reward\nmetadata:\n  name: {name}\nspec:\n  eventRef:\n    \
         name: {event}\n  displayName: {name}\n  quantity: 5\n"
    )
}

/// The stored object `kind`/`name`: its manifest's spec with the stored status.
async fn stored(db: &PgPool, kind: &str, yaml: &str, name: &str) -> Value {
    let status: Value =
        sqlx::query_scalar("select status from resource_status where kind = $1 and name = $2")
            .bind(kind)
            .bind(name)
            .fetch_one(db)
            .await
            .unwrap_or_else(|error| panic!("{kind} {name}'s status: {error}"));
    let mut object: Value = serde_saphyr::from_str(yaml).expect("parse the manifest");
    object["status"] = status;
    object
}

/// `(type, status, reason)` of each condition.
fn conditions(object: &Value) -> Vec<(String, String, String)> {
    let list = object["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|c| {
            assert_eq!(c["observedGeneration"], 1, "{c}");
            let field = |name: &str| c[name].as_str().unwrap_or_default().to_owned();
            (field("type"), field("status"), field("reason"))
        })
        .collect()
}

fn owned(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

#[tokio::test]
async fn valid_invalid_and_waiting_objects_carry_kstatus_conditions() {
    let db = TestDb::new().await;
    let dir = Directory::new();
    let (starts, ends) = (at(-Duration::hours(1)), at(Duration::days(3)));
    let spring = event_yaml("spring", &starts, &ends);
    let broken = event_yaml("broken", &ends, &starts);
    let gold = reward_yaml("gold", "spring");
    let orphan = reward_yaml("orphan", "summer");
    dir.write("events.yaml", &format!("{spring}---\n{broken}"));
    dir.write("rewards.yaml", &format!("{gold}---\n{orphan}"));
    let mut state = loaded(&db.pool, &dir).await;

    let event = stored(&db.pool, "Event", &spring, "spring").await;
    assert_eq!(conditions(&event), owned(&[("Ready", "True", "Synced")]));
    let printed = row("Event", &event);
    assert_eq!(
        (cell(&printed, "Phase"), cell(&printed, "Ready")),
        ("Active", "True")
    );
    assert_eq!(
        cell(&printed, "Status"),
        format!("Active: claims open until {ends}")
    );
    assert_eq!(
        (cell(&printed, "Ends"), cell(&printed, "Claims")),
        (ends.as_str(), "0")
    );

    let invalid = stored(&db.pool, "Event", &broken, "broken").await;
    assert_eq!(
        conditions(&invalid),
        owned(&[
            ("Ready", "False", "InvalidSpec"),
            ("Stalled", "True", "InvalidSpec")
        ])
    );
    assert_eq!(cell(&row("Event", &invalid), "Phase"), "Invalid");

    let reward = stored(&db.pool, "Reward", &gold, "gold").await;
    assert_eq!(conditions(&reward), owned(&[("Ready", "True", "Synced")]));
    let printed = row("Reward", &reward);
    let cells: Vec<&str> = ["Event", "Ready", "Claimed", "Remaining"]
        .iter()
        .map(|name| cell(&printed, name))
        .collect();
    assert_eq!(cells, ["spring", "True", "0", "5"]);

    let waiting = stored(&db.pool, "Reward", &orphan, "orphan").await;
    assert_eq!(
        conditions(&waiting),
        owned(&[
            ("Ready", "False", "EventNotFound"),
            ("Reconciling", "True", "EventNotFound")
        ])
    );

    // The Event arrives (a later commit of the GitOps repository): the
    // waiting Reward becomes Ready with no edit, and Reconciling goes.
    dir.write("summer.yaml", &event_yaml("summer", &starts, &ends));
    state.rescan().await;
    let resolved = stored(&db.pool, "Reward", &orphan, "orphan").await;
    assert_eq!(conditions(&resolved), owned(&[("Ready", "True", "Synced")]));
}

#[tokio::test]
async fn a_refused_edit_is_stalled_until_reverted() {
    let db = TestDb::new().await;
    let dir = Directory::new();
    let (starts, ends) = (at(-Duration::hours(1)), at(Duration::days(3)));
    let events = format!(
        "{}---\n{}",
        event_yaml("spring", &starts, &ends),
        event_yaml("summer", &starts, &ends)
    );
    dir.write("events.yaml", &events);
    let gold = reward_yaml("gold", "spring");
    dir.write("gold.yaml", &gold);
    let mut state = loaded(&db.pool, &dir).await;

    let moved = reward_yaml("gold", "summer");
    dir.write("gold.yaml", &moved);
    state.rescan().await;
    let refused = stored(&db.pool, "Reward", &moved, "gold").await;
    assert_eq!(
        conditions(&refused),
        owned(&[
            ("Ready", "False", "ImmutableFieldChanged"),
            ("Stalled", "True", "ImmutableFieldChanged")
        ])
    );

    dir.write("gold.yaml", &gold);
    state.rescan().await;
    let reverted = stored(&db.pool, "Reward", &gold, "gold").await;
    assert_eq!(conditions(&reverted), owned(&[("Ready", "True", "Synced")]));
}
