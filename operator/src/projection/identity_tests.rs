//! Identity of definitions by namespace/name against real PostgreSQL: a
//! re-created object lands on its old row (id, counters, claims), a reward
//! never moves to another event, and `claimPolicy.maxRewardsPerUser` is
//! projected.

use liveops_domain::crd::{EventPhase, EventRef};
use liveops_testkit::TestDb;
use uuid::Uuid;

use super::{
    tests::{event_spec, put_event, put_reward, reward_spec},
    *,
};

async fn a_user(db: &PgPool) -> Uuid {
    sqlx::query_scalar!(
        "insert into users (email, password_hash, birth_date, invite_code)
         values ('p@example.com', 'x', '2000-01-01', 'INVITE') returning id"
    )
    .fetch_one(db)
    .await
    .expect("user")
}

/// The rows a pre-0022 cluster left: ids that are object uids, counters and
/// one claim, all soft-deleted by the finalizer when the objects went.
async fn rows_under_old_uids(db: &PgPool) -> (Uuid, Uuid) {
    let (event_id, reward_id) = (Uuid::new_v4(), Uuid::new_v4());
    let spec = event_spec();
    sqlx::query!(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation,
                             claims_total, deleted_at)
         values ($1, 'default', 'week', 'Week', $2, $3, 'Active', 4, 3, now())",
        event_id,
        spec.starts_at,
        spec.ends_at,
    )
    .execute(db)
    .await
    .expect("old event row");
    sqlx::query!(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, claimed, generation,
                              deleted_at)
         values ($1, $2, 'default', 'gold', 'Gold', 3, 3, 2, now())",
        reward_id,
        event_id,
    )
    .execute(db)
    .await
    .expect("old reward row");
    let user = a_user(db).await;
    sqlx::query!(
        "insert into claims (user_id, reward_id, event_id, status, slot, reward_rank)
         values ($1, $2, $3, 'success', 1, 1)",
        user,
        reward_id,
        event_id,
    )
    .execute(db)
    .await
    .expect("old claim");
    (event_id, reward_id)
}

#[tokio::test]
async fn a_re_created_definition_lands_on_its_old_row_with_its_id_and_ledger() {
    let db = TestDb::new().await;
    let (event_id, reward_id) = rows_under_old_uids(&db.pool).await;

    put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(3))).await,
        RewardProjection::Projected {
            claimed: 3,
            quantity: Some(3)
        },
        "the stock stays sold out"
    );
    let rows = sqlx::query!(
        "select (select array_agg(id) from events) as \"events!\",
                (select array_agg(id) from rewards) as \"rewards!\",
                (select claims_total from events) as \"claims_total!\",
                (select bool_and(deleted_at is null) from rewards) as \"reward_live!\",
                (select count(*) from claims where reward_id = $1 and event_id = $2) as \"claims!\"",
        reward_id,
        event_id,
    )
    .fetch_one(&db.pool)
    .await
    .expect("rows");
    assert_eq!(rows.events, vec![event_id], "one event row, same id");
    assert_eq!(rows.rewards, vec![reward_id], "one reward row, same id");
    assert_eq!(rows.claims_total, 3);
    assert!(rows.reward_live, "the soft-deleted row is revived");
    assert_eq!(rows.claims, 1, "claims history still points at the row");
    assert_eq!(
        event_claims_total(&db.pool, "default", "week")
            .await
            .expect("read"),
        Some(3)
    );
}

#[tokio::test]
async fn a_reward_never_moves_to_another_event() {
    let db = TestDb::new().await;
    let week_id = put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    let season = EventRow {
        namespace: "default",
        name: "season",
        spec: &event_spec(),
        phase: EventPhase::Active,
        generation: 1,
    };
    upsert_event(&db.pool, season).await.expect("season");
    put_reward(&db.pool, &reward_spec(Some(3))).await;

    let mut moved = reward_spec(Some(99));
    moved.event_ref = EventRef {
        name: "season".into(),
    };
    let refused = RewardProjection::EventRefChanged { event: "week".into() };
    assert_eq!(put_reward(&db.pool, &moved).await, refused, "live row");
    soft_delete_reward(&db.pool, "default", "gold")
        .await
        .expect("delete");
    assert_eq!(
        put_reward(&db.pool, &moved).await,
        refused,
        "re-created with another eventRef"
    );
    let row = sqlx::query!("select event_id, quantity, deleted_at is not null as \"deleted!\" from rewards")
        .fetch_one(&db.pool)
        .await
        .expect("row");
    assert_eq!(
        (row.event_id, row.quantity, row.deleted),
        (week_id, Some(3), true),
        "nothing was written"
    );
    // Re-created as it was, it comes back under its event.
    assert_eq!(
        put_reward(&db.pool, &reward_spec(Some(3))).await,
        RewardProjection::Projected {
            claimed: 0,
            quantity: Some(3)
        }
    );
}

#[tokio::test]
async fn max_rewards_per_user_is_projected_and_cleared() {
    let db = TestDb::new().await;
    let mut spec = event_spec();
    spec.claim_policy.max_rewards_per_user = Some(2);
    let id = put_event(&db.pool, &spec, EventPhase::Active, 1).await;
    let stored = || async {
        sqlx::query_scalar!("select max_rewards_per_user from events where id = $1", id)
            .fetch_one(&db.pool)
            .await
            .expect("row")
    };
    assert_eq!(stored().await, Some(2));
    spec.claim_policy.max_rewards_per_user = None;
    put_event(&db.pool, &spec, EventPhase::Active, 2).await;
    assert_eq!(stored().await, None, "absent = no event-wide limit");
}
