//! What the progress view reports besides the verdict: each leaf's current
//! value and target, the period and when it ends, the next transition, and
//! which events `GET /progress/me` covers.

use liveops_testkit::TestDb;
use serde_json::json;

use super::fixtures::{counter, progress_of, reward_requiring, set_value, today_key};
use crate::{
    challenge::user_progress,
    claim::tests::fixtures::{EventRow, user},
};

#[tokio::test]
async fn each_leaf_reports_its_current_value_and_target_in_document_order() {
    let db = TestDb::new().await;
    let event = EventRow {
        frequency: "Daily",
        ..EventRow::default()
    };
    let event_id = event.insert(&db.pool).await;
    let wins = counter(&db.pool, event_id, "wins").await;
    let user_id = user(&db.pool).await;
    set_value(&db.pool, wins, user_id, "event", 7).await;
    set_value(&db.pool, wins, user_id, &today_key(&db.pool).await, 2).await;
    let requires = json!({"anyOf": [
        {"counter": {"name": "wins", "atLeast": 10}},
        {"allOf": [{"claimed": {"reward": "starter"}}, {"counter": {"name": "wins", "atLeast": 2, "window": "Period"}}]},
    ]});
    let reward_id = reward_requiring(&db.pool, event_id, "tier", None, requires).await;
    let progress = progress_of(&db.pool, user_id, event_id, reward_id).await;
    let leaves: Vec<_> = progress
        .requirements
        .iter()
        .map(|leaf| {
            (
                leaf.path.as_str(),
                leaf.kind.as_str(),
                leaf.name.as_str(),
                leaf.window.as_deref(),
                leaf.current,
                leaf.target,
                leaf.met,
            )
        })
        .collect();
    assert_eq!(
        leaves,
        [
            ("anyOf[0]", "counter", "wins", Some("Event"), 7, 10, false),
            ("anyOf[1].allOf[0]", "claimed", "starter", None, 0, 1, false),
            ("anyOf[1].allOf[1]", "counter", "wins", Some("Period"), 2, 2, true),
        ]
    );
    assert_eq!(progress.reason.as_deref(), Some("REQUIREMENTS_NOT_MET"));
    assert_eq!(progress.period_key, Some(today_key(&db.pool).await));
    let ends_at = progress.period_ends_at.expect("a Daily period ends");
    let expected: chrono::DateTime<chrono::Utc> = sqlx::query_scalar!(
        r#"select ((now() at time zone 'UTC')::date + 1)::timestamp at time zone 'UTC' as "at!""#
    )
    .fetch_one(&db.pool)
    .await
    .expect("tomorrow");
    assert_eq!(ends_at, expected, "the next midnight UTC");
}

#[tokio::test]
async fn progress_reports_the_next_transition_and_a_once_period_never_ends() {
    let db = TestDb::new().await;
    let event = EventRow {
        ends_in_secs: 600.0,
        ..EventRow::default()
    };
    let event_id = event.insert(&db.pool).await;
    let reward_id = reward_requiring(&db.pool, event_id, "plain", None, serde_json::Value::Null).await;
    let user_id = user(&db.pool).await;
    let progress = user_progress(&db.pool, user_id, Some(event_id))
        .await
        .expect("progress");
    let event = &progress.events[0];
    let until_end = event.next_transition_at.expect("the end is ahead") - progress.server_time;
    assert!(
        (599..=600).contains(&until_end.num_seconds()),
        "ends in ~600 s: {until_end}"
    );
    let reward = &event.rewards[0];
    assert_eq!(
        (reward.reward_id, reward.claimable, reward.reason.as_deref()),
        (reward_id, true, None)
    );
    assert_eq!(
        (reward.period_key.as_deref(), reward.period_ends_at),
        (Some("once"), None)
    );
    assert!(reward.requirements.is_empty());
}

#[tokio::test]
async fn my_progress_covers_open_events_only_and_one_event_hides_the_unannounced() {
    let db = TestDb::new().await;
    let open = EventRow::default().insert(&db.pool).await;
    let upcoming = EventRow {
        starts_in_secs: 3600.0,
        ends_in_secs: 7200.0,
        phase: "Scheduled",
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let ended = EventRow {
        starts_in_secs: -7200.0,
        ends_in_secs: -3600.0,
        phase: "Ended",
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let hidden = EventRow {
        starts_in_secs: 3600.0,
        ends_in_secs: 7200.0,
        phase: "Scheduled",
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    sqlx::query!(
        "update events set announce_at = now() + interval '10 minutes' where id = $1",
        hidden
    )
    .execute(&db.pool)
    .await
    .expect("announce later");
    let user_id = user(&db.pool).await;
    let mine = user_progress(&db.pool, user_id, None).await.expect("progress");
    let ids: Vec<_> = mine.events.iter().map(|event| event.event_id).collect();
    assert!(
        ids.contains(&open) && !ids.contains(&upcoming) && !ids.contains(&ended),
        "{ids:?}"
    );
    assert_eq!(
        shown(&db.pool, user_id, upcoming).await,
        1,
        "a scheduled event has progress"
    );
    assert_eq!(
        shown(&db.pool, user_id, ended).await,
        1,
        "an ended event has progress"
    );
    assert_eq!(
        shown(&db.pool, user_id, hidden).await,
        0,
        "an unannounced event is unknown"
    );
}

/// How many events the progress of one event id shows (0 or 1).
async fn shown(db: &sqlx::PgPool, user_id: uuid::Uuid, event_id: uuid::Uuid) -> usize {
    user_progress(db, user_id, Some(event_id))
        .await
        .expect("progress")
        .events
        .len()
}
