//! The shared Counter reconcile against a real PostgreSQL: a re-created
//! counter cannot move its values to another event or aggregation, and the
//! Rewards listed in its status are exactly those whose `requires` name it.

use chrono::{Duration, Utc};
use kube::Resource;
use liveops_domain::crd::{Counter, CounterSpec, Event};
use liveops_testkit::TestDb;
use serde_json::json;
use sqlx::PgPool;

use super::reconcile_counter;
use crate::reconcile::reconcile_event;

fn counter(event: &str, aggregation: &str, generation: i64) -> Counter {
    let spec: CounterSpec = serde_json::from_value(json!({
        "eventRef": {"name": event}, "displayName": "Wins", "aggregation": aggregation,
    }))
    .expect("CounterSpec");
    let mut counter = Counter::new("wins", spec);
    counter.meta_mut().namespace = Some("games".to_owned());
    counter.meta_mut().generation = Some(generation);
    counter
}

async fn event(db: &PgPool, name: &str) {
    let mut event: Event = serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
        "metadata": {"name": name, "namespace": "games"},
        "spec": {"displayName": name, "startsAt": Utc::now() - Duration::days(1),
                 "endsAt": Utc::now() + Duration::days(9)},
    }))
    .expect("Event");
    event.meta_mut().generation = Some(1);
    reconcile_event(db, &event, Utc::now())
        .await
        .expect("event projected");
}

async fn reward_requiring(db: &PgPool, name: &str, requires: serde_json::Value, deleted: bool) {
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, generation, requires, deleted_at)
         select gen_random_uuid(), id, 'games', $1, $1, 1, $2, case when $3 then now() end
         from events where name = 'week'",
    )
    .bind(name)
    .bind(requires)
    .bind(deleted)
    .execute(db)
    .await
    .expect("reward");
}

#[tokio::test]
async fn a_recreated_counter_keeps_its_event_and_aggregation() {
    let db = TestDb::new().await;
    event(&db.pool, "week").await;
    event(&db.pool, "season").await;
    let first = reconcile_counter(&db.pool, &counter("week", "Sum", 1), Utc::now())
        .await
        .expect("projected");
    assert!(first.projected);
    for (event, aggregation, reason) in [
        ("season", "Sum", "EventRefChanged"),
        ("week", "Max", "AggregationChanged"),
    ] {
        let outcome = reconcile_counter(&db.pool, &counter(event, aggregation, 1), Utc::now())
            .await
            .expect("reconciled");
        assert!(!outcome.projected, "{event} {aggregation}");
        assert_eq!(outcome.status.conditions[0].reason, reason);
        assert_eq!(
            outcome.status.conditions[0].status,
            liveops_domain::crd::ConditionStatus::False
        );
    }
    let row: (String, String) = sqlx::query_as(
        "select e.name, c.aggregation::text from counters c join events e on e.id = c.event_id",
    )
    .fetch_one(&db.pool)
    .await
    .expect("row");
    assert_eq!(row, ("week".to_owned(), "Sum".to_owned()));
}

#[tokio::test]
async fn the_status_lists_the_live_rewards_whose_requirements_name_the_counter() {
    let db = TestDb::new().await;
    event(&db.pool, "week").await;
    let leaf = |name: &str| json!({"counter": {"name": name, "atLeast": 3, "window": "Period"}});
    reward_requiring(
        &db.pool,
        "b-nested",
        json!({"allOf": [{"anyOf": [leaf("losses"), leaf("wins")]}]}),
        false,
    )
    .await;
    reward_requiring(&db.pool, "a-direct", json!({"anyOf": [leaf("wins")]}), false).await;
    reward_requiring(
        &db.pool,
        "other",
        json!({"allOf": [leaf("losses"), {"claimed": {"reward": "wins"}}]}),
        false,
    )
    .await;
    reward_requiring(&db.pool, "gone", json!({"allOf": [leaf("wins")]}), true).await;
    let outcome = reconcile_counter(&db.pool, &counter("week", "Sum", 1), Utc::now())
        .await
        .expect("projected");
    assert_eq!(outcome.status.rewards, ["a-direct", "b-nested"]);
    assert_eq!(outcome.status.signals_per_minute, Some(0));
    assert_eq!(outcome.status.last_signal_at, None);
}
