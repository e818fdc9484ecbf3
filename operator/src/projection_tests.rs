//! Projection against real PostgreSQL: idempotent upserts, `claimed` never
//! touched, dangling rewards, soft deletes.

use chrono::{DateTime, Utc};
use liveops_domain::crd::{ClaimPolicy, EventPhase, EventRef, EventSpec, RewardSpec};
use liveops_testkit::TestDb;
use uuid::Uuid;

use super::*;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

pub(super) fn event_spec() -> EventSpec {
    EventSpec {
        display_name: "Week".into(),
        description: "d".into(),
        starts_at: at("2026-03-01T00:00:00Z"),
        ends_at: at("2026-03-08T00:00:00Z"),
        announce_at: None,
        claim_until: None,
        time_zone: "Asia/Seoul".into(),
        condition: None,
        claim_policy: ClaimPolicy::default(),
        suspend: false,
        max_claims: Some(10),
    }
}

pub(super) fn reward_spec(quantity: Option<i32>) -> RewardSpec {
    RewardSpec {
        event_ref: EventRef { name: "week".into() },
        display_name: "Gold".into(),
        description: String::new(),
        quantity,
        per_user_limit: 1,
        payload: Some(serde_json::json!({"itemCode": "GOLD"}).into()),
        requires: None,
    }
}

pub(super) async fn put_event(db: &PgPool, spec: &EventSpec, phase: EventPhase, generation: i64) -> Uuid {
    let id = definition_id(Kind::Event, "default", "week");
    let row = EventRow {
        namespace: "default",
        name: "week",
        spec,
        phase,
        generation,
    };
    upsert_event(db, row).await.expect("upsert event");
    id
}

pub(super) async fn put_reward(db: &PgPool, spec: &RewardSpec) -> RewardProjection {
    let row = RewardRow {
        namespace: "default",
        name: "gold",
        spec,
        generation: 1,
    };
    upsert_reward(db, row).await.expect("upsert reward")
}

#[test]
fn new_row_ids_are_stable_per_kind_namespace_and_name() {
    let id = definition_id(Kind::Event, "default", "week");
    assert_eq!(id, definition_id(Kind::Event, "default", "week"));
    assert_ne!(id, definition_id(Kind::Reward, "default", "week"));
    assert_ne!(id, definition_id(Kind::Event, "other", "week"));
    // The formula manifests mode has always used, so its rows keep their ids.
    assert_eq!(id.to_string(), "4025cfcb-ccfc-5a12-80db-98c646af93ce");
}

#[tokio::test]
async fn event_upsert_writes_the_spec_and_is_idempotent() {
    let db = TestDb::new().await;
    let id = put_event(&db.pool, &event_spec(), EventPhase::Scheduled, 1).await;
    let first = sqlx::query!(
        "select updated_at, phase::text as phase, time_zone, max_claims from events where id = $1",
        id
    )
    .fetch_one(&db.pool)
    .await
    .expect("row");
    assert_eq!(first.phase.as_deref(), Some("Scheduled"));
    assert_eq!(
        (first.time_zone.as_str(), first.max_claims),
        ("Asia/Seoul", Some(10))
    );

    put_event(&db.pool, &event_spec(), EventPhase::Scheduled, 1).await;
    let again = sqlx::query_scalar!("select updated_at from events where id = $1", id)
        .fetch_one(&db.pool)
        .await
        .expect("row");
    assert_eq!(again, first.updated_at, "an unchanged upsert writes nothing");

    put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    let phase = sqlx::query_scalar!("select phase::text from events where id = $1", id)
        .fetch_one(&db.pool)
        .await
        .expect("row");
    assert_eq!(phase.as_deref(), Some("Active"));
}

#[tokio::test]
async fn editing_quantity_never_resets_claimed() {
    let db = TestDb::new().await;
    put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    let reward_id = definition_id(Kind::Reward, "default", "gold");
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(100))).await,
        RewardProjection::Projected {
            claimed: 0,
            quantity: Some(100)
        }
    );
    // What the claim transaction does.
    sqlx::query!("update rewards set claimed = 7 where id = $1", reward_id)
        .execute(&db.pool)
        .await
        .expect("claim");
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(50))).await,
        RewardProjection::Projected {
            claimed: 7,
            quantity: Some(50)
        }
    );
    assert_eq!(
        put_reward(&db.pool, &reward_spec(None)).await,
        RewardProjection::Projected {
            claimed: 7,
            quantity: None
        }
    );
}

#[tokio::test]
async fn a_reward_without_its_event_writes_no_row() {
    let db = TestDb::new().await;
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(1))).await,
        RewardProjection::EventNotFound
    );
    let rows = sqlx::query_scalar!("select count(*) from rewards")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, Some(0));
}

#[tokio::test]
async fn soft_deletes_keep_rows_and_a_reapply_revives_them() {
    let db = TestDb::new().await;
    let event_id = put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    put_reward(&db.pool, &reward_spec(Some(3))).await;
    let reward_id = definition_id(Kind::Reward, "default", "gold");
    sqlx::query!("update rewards set claimed = 2 where id = $1", reward_id)
        .execute(&db.pool)
        .await
        .expect("claim");

    soft_delete_reward(&db.pool, "default", "gold")
        .await
        .expect("delete reward");
    soft_delete_event(&db.pool, "default", "week")
        .await
        .expect("delete event");
    let gone = sqlx::query!(
        "select (select deleted_at is not null from events where id = $1) as \"event_gone!\",
                (select deleted_at is not null from rewards where id = $2) as \"reward_gone!\",
                (select claimed from rewards where id = $2) as \"claimed!\"",
        event_id,
        reward_id
    )
    .fetch_one(&db.pool)
    .await
    .expect("rows");
    assert!(gone.event_gone && gone.reward_gone);
    assert_eq!(gone.claimed, 2, "history stays");
    assert_eq!(
        event_claims_total(&db.pool, "default", "week")
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(3))).await,
        RewardProjection::EventNotFound
    );

    put_event(&db.pool, &event_spec(), EventPhase::Active, 2).await;
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(3))).await,
        RewardProjection::Projected {
            claimed: 2,
            quantity: Some(3)
        }
    );
}

#[tokio::test]
async fn an_invalid_spec_suspends_the_existing_row() {
    let db = TestDb::new().await;
    let id = put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    mark_event_invalid(&db.pool, "default", "week", 2)
        .await
        .expect("mark invalid");
    let row = sqlx::query!(
        "select phase::text as phase, suspended, generation from events where id = $1",
        id
    )
    .fetch_one(&db.pool)
    .await
    .expect("row");
    assert_eq!(
        (row.phase.as_deref(), row.suspended, row.generation),
        (Some("Invalid"), true, 2)
    );
    // An invalid event that never had a row gets none.
    mark_event_invalid(&db.pool, "default", "never", 1)
        .await
        .expect("no-op");
    let rows = sqlx::query_scalar!("select count(*) from events")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, Some(1));
}
