//! The shared reconcile against real PostgreSQL: statuses that only change
//! when something changed, exact requeue instants, dangling rewards.

use chrono::{DateTime, Duration, Utc};
use liveops_domain::crd::{ConditionStatus, Event, EventPhase, Reward};
use liveops_testkit::TestDb;
use serde_json::json;

use super::*;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

fn event(extra: serde_json::Value) -> Event {
    let mut spec = json!({
        "displayName": "Week",
        "startsAt": "2026-03-01T00:00:00Z",
        "endsAt": "2026-03-08T00:00:00Z",
    });
    if let (Some(spec), serde_json::Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
        "metadata": {"name": "week", "namespace": "games", "generation": 3},
        "spec": spec,
    }))
    .expect("Event")
}

fn reward(event: &str) -> Reward {
    serde_json::from_value(json!({
        "apiVersion": "liveops.dev/v1alpha1", "kind": "Reward",
        "metadata": {"name": "gold", "namespace": "games", "generation": 1},
        "spec": {"eventRef": {"name": event}, "displayName": "Gold", "quantity": 5},
    }))
    .expect("Reward")
}

#[tokio::test]
async fn a_scheduled_event_requeues_at_its_start_and_its_status_is_stable() {
    let db = TestDb::new().await;
    let mut event = event(json!({}));
    let first = reconcile_event(&db.pool, &event, at("2026-02-01T00:00:00Z"))
        .await
        .expect("reconcile");
    assert_eq!(first.status.phase, Some(EventPhase::Scheduled));
    assert_eq!(first.phase_change, Some((None, EventPhase::Scheduled)));
    assert_eq!(first.requeue_at, Some(at("2026-03-01T00:00:00Z")));
    assert_eq!(first.status.observed_generation, Some(3));
    assert_eq!(first.status.claims_total, Some(0));

    event.status = Some(first.status.clone());
    let later = reconcile_event(&db.pool, &event, at("2026-02-02T00:00:00Z"))
        .await
        .expect("reconcile");
    assert_eq!(
        later.status, first.status,
        "nothing changed, so the status is identical"
    );
    assert_eq!(later.phase_change, None);
}

#[tokio::test]
async fn the_boundary_flips_the_phase_but_not_the_ready_transition_time() {
    let db = TestDb::new().await;
    let mut event = event(json!({}));
    let before = reconcile_event(&db.pool, &event, at("2026-02-01T00:00:00Z"))
        .await
        .expect("reconcile");
    event.status = Some(before.status.clone());
    let start = at("2026-03-01T00:00:00Z");
    let after = reconcile_event(&db.pool, &event, start).await.expect("reconcile");
    assert_eq!(
        after.phase_change,
        Some((Some(EventPhase::Scheduled), EventPhase::Active))
    );
    assert_eq!(after.requeue_at, Some(at("2026-03-08T00:00:00Z")));
    assert_eq!(
        after.status.conditions[0].last_transition_time, before.status.conditions[0].last_transition_time,
        "Ready stayed True"
    );
    let phase: Option<String> = sqlx::query_scalar("select phase::text from events where name = 'week'")
        .fetch_one(&db.pool)
        .await
        .expect("row");
    assert_eq!(phase.as_deref(), Some("Active"));
}

#[tokio::test]
async fn an_invalid_event_reports_its_problems_and_never_requeues() {
    let db = TestDb::new().await;
    let event = event(json!({"condition": {"loginStreak": {"days": 30}}}));
    let outcome = reconcile_event(&db.pool, &event, at("2026-03-02T00:00:00Z"))
        .await
        .expect("reconcile");
    assert_eq!(outcome.status.phase, Some(EventPhase::Invalid));
    assert_eq!(outcome.requeue_at, None);
    assert_eq!(outcome.problems[0].field, "spec.condition.loginStreak.days");
    let ready = &outcome.status.conditions[0];
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "InvalidSpec")
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "an invalid event is not projected");
}

#[tokio::test]
async fn a_dangling_reward_is_not_ready_until_its_event_exists() {
    let db = TestDb::new().await;
    let now = at("2026-03-02T00:00:00Z");
    let outcome = reconcile_reward(&db.pool, &reward("week"), now)
        .await
        .expect("reconcile");
    let ready = &outcome.status.conditions[0];
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::False, "EventNotFound")
    );
    assert_eq!(outcome.status.claimed, None);

    reconcile_event(&db.pool, &event(json!({})), now)
        .await
        .expect("reconcile event");
    let mut reward = reward("week");
    reward.status = Some(outcome.status);
    let outcome = reconcile_reward(&db.pool, &reward, now + Duration::seconds(5))
        .await
        .expect("reconcile");
    let ready = &outcome.status.conditions[0];
    assert_eq!(
        (ready.status, ready.reason.as_str()),
        (ConditionStatus::True, "Synced")
    );
    assert_eq!(
        ready.last_transition_time,
        now + Duration::seconds(5),
        "the flip is dated"
    );
    assert_eq!(
        (outcome.status.claimed, outcome.status.remaining),
        (Some(0), Some(5))
    );
}

#[tokio::test]
async fn cleanup_soft_deletes_both_rows() {
    let db = TestDb::new().await;
    let now = at("2026-03-02T00:00:00Z");
    let event = event(json!({}));
    let reward = reward("week");
    reconcile_event(&db.pool, &event, now)
        .await
        .expect("reconcile event");
    reconcile_reward(&db.pool, &reward, now)
        .await
        .expect("reconcile reward");
    cleanup_reward(&db.pool, &reward).await.expect("cleanup reward");
    cleanup_event(&db.pool, &event).await.expect("cleanup event");
    let live: i64 = sqlx::query_scalar(
        "select (select count(*) from events where deleted_at is null) + (select count(*) from rewards where deleted_at is null)",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count");
    assert_eq!(live, 0);
}
