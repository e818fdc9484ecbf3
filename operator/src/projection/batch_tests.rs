//! The batched projection and the phase timer's write against real
//! PostgreSQL: one statement for many rows with the one-row outcomes, and
//! every due row flipped by the rule of `schedule_at`.

use chrono::{DateTime, Duration, Utc};
use liveops_domain::crd::{EventPhase, EventRef, EventSpec, RewardSpec};
use liveops_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    tests::{event_spec, reward_spec},
    *,
};

fn named(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("e{i:04}")).collect()
}

async fn put_events(db: &PgPool, names: &[String], spec: &EventSpec, phase: EventPhase) -> Vec<Uuid> {
    let rows: Vec<EventRow<'_>> = names
        .iter()
        .map(|name| EventRow {
            namespace: "default",
            name,
            spec,
            phase,
            generation: 1,
        })
        .collect();
    let stored = upsert_events(db, &rows).await.expect("batched upsert");
    names
        .iter()
        .map(|name| stored[&("default".to_owned(), name.clone())].id)
        .collect()
}

async fn phases(db: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as("select name, phase::text from events order by name")
        .fetch_all(db)
        .await
        .expect("phases")
}

#[tokio::test]
async fn thousands_of_rows_sharing_a_boundary_flip_in_one_statement_once() {
    let db = TestDb::new().await;
    let spec = event_spec();
    let names = named(3_000);
    let ids = put_events(&db.pool, &names, &spec, EventPhase::Scheduled).await;
    assert_eq!(ids[0], definition_id(Kind::Event, "default", "e0000"));

    let before: DateTime<Utc> = spec.starts_at - Duration::milliseconds(1);
    assert!(
        flip_phases(&db.pool, &ids, before)
            .await
            .expect("flip")
            .is_empty()
    );
    let flipped = flip_phases(&db.pool, &ids, spec.starts_at).await.expect("flip");
    assert_eq!(flipped.len(), 3_000);
    assert!(phases(&db.pool).await.iter().all(|(_, phase)| phase == "Active"));
    assert!(
        flip_phases(&db.pool, &ids, spec.starts_at)
            .await
            .expect("again")
            .is_empty(),
        "rows already in their phase are not written again"
    );
    let ended = flip_phases(&db.pool, &ids, spec.ends_at).await.expect("end");
    assert_eq!(ended.len(), 3_000);
}

#[tokio::test]
async fn the_flip_follows_suspend_and_leaves_invalid_and_deleted_rows_alone() {
    let db = TestDb::new().await;
    let spec = event_spec();
    let suspended = EventSpec {
        suspend: true,
        ..event_spec()
    };
    let active_ids = put_events(&db.pool, &named(3), &spec, EventPhase::Scheduled).await;
    let paused = put_events(
        &db.pool,
        &["paused".to_owned()],
        &suspended,
        EventPhase::Scheduled,
    )
    .await;
    mark_event_invalid(&db.pool, "default", "e0001", 2)
        .await
        .expect("invalid");
    soft_delete_event(&db.pool, "default", "e0002")
        .await
        .expect("deleted");
    let all: Vec<Uuid> = active_ids.into_iter().chain(paused).collect();

    let flipped = flip_phases(&db.pool, &all, spec.starts_at).await.expect("flip");
    let mut names: Vec<_> = flipped.events.into_iter().map(|event| event.name).collect();
    names.sort();
    assert_eq!(names, ["e0000", "paused"]);
    let expected = [
        ("e0000", "Active"),
        ("e0001", "Invalid"),
        ("e0002", "Scheduled"),
        ("paused", "Suspended"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, phase)| ((*name).to_owned(), (*phase).to_owned()))
        .collect();
    assert_eq!(phases(&db.pool).await, expected);
}

#[tokio::test]
async fn batched_rewards_have_the_one_row_outcomes_and_never_touch_claimed() {
    let db = TestDb::new().await;
    let week = event_spec();
    put_events(
        &db.pool,
        &["week".to_owned(), "season".to_owned()],
        &week,
        EventPhase::Active,
    )
    .await;
    let gold = reward_spec(Some(5));
    let orphan = RewardSpec {
        event_ref: EventRef {
            name: "missing".into(),
        },
        ..reward_spec(None)
    };
    let moved = RewardSpec {
        event_ref: EventRef {
            name: "season".into(),
        },
        ..reward_spec(Some(1))
    };
    let rows = [("gold", &gold), ("orphan", &orphan)].map(|(name, spec)| RewardRow {
        namespace: "default",
        name,
        spec,
        generation: 1,
    });
    upsert_rewards(&db.pool, &rows).await.expect("first batch");
    sqlx::query("update rewards set claimed = 2 where name = 'gold'")
        .execute(&db.pool)
        .await
        .expect("claims");

    // Again, with gold's stock edited and a row asking to move gold's ledger.
    let edited = reward_spec(Some(7));
    let rows = [("gold", &edited), ("orphan", &orphan)].map(|(name, spec)| RewardRow {
        namespace: "default",
        name,
        spec,
        generation: 2,
    });
    let outcomes = upsert_rewards(&db.pool, &rows).await.expect("second batch");
    let key = |name: &str| ("default".to_owned(), name.to_owned());
    assert_eq!(
        outcomes[&key("gold")],
        RewardProjection::Projected {
            claimed: 2,
            quantity: Some(7)
        }
    );
    assert_eq!(outcomes[&key("orphan")], RewardProjection::EventNotFound);
    let move_row = [RewardRow {
        namespace: "default",
        name: "gold",
        spec: &moved,
        generation: 3,
    }];
    let refused = upsert_rewards(&db.pool, &move_row).await.expect("third batch");
    assert_eq!(
        refused[&key("gold")],
        RewardProjection::EventRefChanged {
            event: "week".to_owned()
        }
    );
}
