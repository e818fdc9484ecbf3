//! Deleting and re-creating objects in a cluster (`kubectl replace --force`,
//! Argo CD Replace, a reinstall: same namespace/name, new uid) through the
//! real controllers, an in-memory API server and PostgreSQL: the ledger
//! carries on (DESIGN.md, "Claims: integrity on every path").

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use liveops_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    controllers_tests::{NS, event, eventually, ready_reason, reward},
    run_controllers,
};
use crate::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};

const WAIT: Duration = Duration::from_secs(10);

/// `(id, deleted)` of the one row of `table` named `name`.
async fn row_of(db: &PgPool, table: &str, name: &str) -> Option<(Uuid, bool)> {
    let query = match table {
        "events" => "select id, deleted_at is not null from events where namespace = $1 and name = $2",
        _ => "select id, deleted_at is not null from rewards where namespace = $1 and name = $2",
    };
    sqlx::query_as(query)
        .bind(NS)
        .bind(name)
        .fetch_optional(db)
        .await
        .expect("read the row")
}

fn status_field(api: &FakeApi, plural: &str, name: &str, field: &str) -> Option<Value> {
    Some(api.get(plural, name)?["status"][field].clone())
}

/// What two successful claims of `reward_id` leave behind.
async fn two_claims(db: &PgPool, event_id: Uuid, reward_id: Uuid) {
    for (n, email) in ["a@example.com", "b@example.com"].into_iter().enumerate() {
        let user: Uuid = sqlx::query_scalar(
            "insert into users (email, password_hash, birth_date, invite_code)
             values ($1, 'x', '2000-01-01', $1) returning id",
        )
        .bind(email)
        .fetch_one(db)
        .await
        .expect("user");
        sqlx::query(
            "insert into claims (user_id, reward_id, event_id, status, slot, reward_rank)
             values ($1, $2, $3, 'success', 1, 1)",
        )
        .bind(user)
        .bind(reward_id)
        .bind(event_id)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("claim {n}: {e}"));
    }
    sqlx::query("update rewards set claimed = 2 where id = $1")
        .bind(reward_id)
        .execute(db)
        .await
        .expect("stock");
    sqlx::query("update events set claims_total = 2 where id = $1")
        .bind(event_id)
        .execute(db)
        .await
        .expect("claims total");
}

/// Deletes an object and waits until the finalizer has let it go.
async fn delete_and_wait(api: &FakeApi, plural: &str, name: &str) {
    api.delete(plural, name);
    eventually(&format!("{plural}/{name} gone"), WAIT, || async {
        api.get(plural, name).is_none().then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_event_and_reward_deleted_and_re_created_keep_their_rows_and_ledger() {
    let db = TestDb::new().await;
    let api = FakeApi::default();
    let now = Utc::now();
    let season = event(
        "season",
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(1),
    );
    api.put("events", season.clone());
    api.put("rewards", reward("gem", "season"));
    api.put("events", event("other", now, now + chrono::Duration::days(1)));
    let ctx = Arc::new(Context::new(
        api.client(NS),
        db.pool.clone(),
        Metrics::new(),
        "test-0".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let controllers = tokio::spawn(run_controllers(ctx, Some(NS.to_owned()), stop));

    eventually("gem synced", WAIT, || async {
        (ready_reason(&api, "gem")? == "Synced").then_some(())
    })
    .await;
    let (event_id, _) = row_of(&db.pool, "events", "season").await.expect("event row");
    let (reward_id, _) = row_of(&db.pool, "rewards", "gem").await.expect("reward row");
    two_claims(&db.pool, event_id, reward_id).await;
    let old_uid = api.get("rewards", "gem").expect("gem")["metadata"]["uid"].clone();

    // kubectl replace --force: both objects go (their rows are soft-deleted)...
    delete_and_wait(&api, "rewards", "gem").await;
    delete_and_wait(&api, "events", "season").await;
    assert_eq!(row_of(&db.pool, "events", "season").await, Some((event_id, true)));
    assert_eq!(row_of(&db.pool, "rewards", "gem").await, Some((reward_id, true)));

    // ...and come back with new uids, onto the same rows and counters.
    api.put("events", season);
    api.put("rewards", reward("gem", "season"));
    assert_ne!(
        api.get("rewards", "gem").expect("gem")["metadata"]["uid"],
        old_uid,
        "a new incarnation"
    );
    eventually("gem shows the carried-over ledger", WAIT, || async {
        let claimed = status_field(&api, "rewards", "gem", "claimed")?;
        let remaining = status_field(&api, "rewards", "gem", "remaining")?;
        let ready = ready_reason(&api, "gem")?;
        (claimed == 2 && remaining == 2 && ready == "Synced").then_some(())
    })
    .await;
    eventually("season's claimsTotal carried over", WAIT, || async {
        (status_field(&api, "events", "season", "claimsTotal")? == 2).then_some(())
    })
    .await;
    assert_eq!(
        row_of(&db.pool, "events", "season").await,
        Some((event_id, false))
    );
    assert_eq!(row_of(&db.pool, "rewards", "gem").await, Some((reward_id, false)));
    let (rows, claims): (i64, i64) = sqlx::query_as(
        "select (select count(*) from rewards) + (select count(*) from events),
                (select count(*) from claims where reward_id = $1 and event_id = $2)",
    )
    .bind(reward_id)
    .bind(event_id)
    .fetch_one(&db.pool)
    .await
    .expect("counts");
    assert_eq!(
        (rows, claims),
        (3, 2),
        "no new rows; the claims still point at them"
    );

    // Re-created under another event, the reward is refused, not moved.
    delete_and_wait(&api, "rewards", "gem").await;
    api.put("rewards", reward("gem", "other"));
    eventually("gem refused", WAIT, || async {
        (ready_reason(&api, "gem")? == "EventRefChanged").then_some(())
    })
    .await;
    let conditions = status_field(&api, "rewards", "gem", "conditions").expect("conditions");
    let message = conditions[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("belongs to Event season") && message.contains("new name"),
        "{message}"
    );
    let event_of_row: Uuid = sqlx::query_scalar("select event_id from rewards where id = $1")
        .bind(reward_id)
        .fetch_one(&db.pool)
        .await
        .expect("row");
    assert_eq!(event_of_row, event_id, "the ledger stays with season");
    assert_eq!(row_of(&db.pool, "rewards", "gem").await, Some((reward_id, true)));

    trigger.fire();
    tokio::time::timeout(Duration::from_secs(5), controllers)
        .await
        .expect("the controllers stop within 5 s")
        .expect("no panic");
}
