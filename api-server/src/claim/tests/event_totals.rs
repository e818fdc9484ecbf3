//! Event totals off the claim path (migration 0036): uncapped events are
//! counted from their rewards, and a cap added to a running event counts
//! every claim already made, including one caught half-way.

use std::time::{Duration, Instant};

use liveops_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::{EventRow, claim, refusal, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal, event_totals::sync_event_totals};

async fn claims_total(db: &PgPool, event_id: Uuid) -> i32 {
    sqlx::query_scalar!("select claims_total from events where id = $1", event_id)
        .fetch_one(db)
        .await
        .expect("claims_total")
}

async fn grant(db: &PgPool, user_id: Uuid, reward_id: Uuid) {
    let outcome = claim(db, user_id, reward_id).await.expect("claim");
    assert!(
        matches!(outcome, ClaimOutcome::Granted(_)),
        "expected a grant, got {outcome:?}"
    );
}

#[tokio::test]
async fn an_uncapped_event_total_is_the_sum_of_its_rewards_after_a_sync() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let (first, second) = (
        reward(&db.pool, event_id, None, 1).await,
        reward(&db.pool, event_id, Some(5), 1).await,
    );
    let (a, b) = (user(&db.pool).await, user(&db.pool).await);
    grant(&db.pool, a, first).await;
    grant(&db.pool, b, first).await;
    grant(&db.pool, a, second).await;
    assert_eq!(
        claims_total(&db.pool, event_id).await,
        0,
        "claims leave the event row alone"
    );

    assert_eq!(sync_event_totals(&db.pool).await.expect("sync"), 1);
    assert_eq!(claims_total(&db.pool, event_id).await, 3);
    assert_eq!(
        sync_event_totals(&db.pool).await.expect("sync again"),
        0,
        "nothing moved"
    );
}

#[tokio::test]
async fn a_cap_added_to_a_running_event_counts_the_claims_already_made() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    for _ in 0..3 {
        let user_id = user(&db.pool).await;
        grant(&db.pool, user_id, reward_id).await;
    }

    sqlx::query!("update events set max_claims = 4 where id = $1", event_id)
        .execute(&db.pool)
        .await
        .expect("add a cap");
    assert_eq!(claims_total(&db.pool, event_id).await, 3);
    let fourth = user(&db.pool).await;
    grant(&db.pool, fourth, reward_id).await;
    let fifth = user(&db.pool).await;
    let refused = claim(&db.pool, fifth, reward_id).await.expect("claim");
    assert_eq!(refusal(&refused), Some(ClaimRefusal::SoldOut { event_cap: true }));
}

#[tokio::test]
async fn a_claim_waiting_on_its_reward_while_a_cap_is_added_runs_again_under_the_cap() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    for _ in 0..2 {
        let user_id = user(&db.pool).await;
        grant(&db.pool, user_id, reward_id).await;
    }

    // The cap's transaction holds the reward row (its trigger rewrote it)
    // while a claim that read the event as uncapped reaches that row.
    let mut capping = db.pool.begin().await.expect("begin");
    sqlx::query!("update events set max_claims = 2 where id = $1", event_id)
        .execute(&mut *capping)
        .await
        .expect("add a cap");
    let late = user(&db.pool).await;
    let pool = db.pool.clone();
    let claiming = tokio::spawn(async move { claim(&pool, late, reward_id).await });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = sqlx::query_scalar!(
            r#"select count(*) as "n!" from pg_stat_activity
               where datname = current_database() and wait_event_type = 'Lock'"#
        )
        .fetch_one(&db.pool)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the claim never waited for the reward row"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    capping.commit().await.expect("commit the cap");

    let outcome = claiming.await.expect("claim task").expect("claim");
    assert_eq!(refusal(&outcome), Some(ClaimRefusal::SoldOut { event_cap: true }));
    let counts = sqlx::query!(
        r#"select (select claimed from rewards where id = $1) as "claimed!",
                  (select count(*) from claims where reward_id = $1 and status = 'success') as "successes!""#,
        reward_id
    )
    .fetch_one(&db.pool)
    .await
    .expect("counts");
    assert_eq!((counts.claimed, counts.successes), (2, 2));
    assert_eq!(claims_total(&db.pool, event_id).await, 2);
}
