//! Per-reward and per-event limits, the refusal precedence, and how
//! repeated refusals are recorded (DESIGN.md, "Claims: integrity on every
//! path").

use liveops_testkit::TestDb;
use serde_json::json;

use super::fixtures::{EventRow, claim, claims_of, refusal, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal};

#[tokio::test]
async fn per_user_limit_counts_each_reward_of_an_event_apart() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let (a, b) = (
        reward(&db.pool, event_id, None, 1).await,
        reward(&db.pool, event_id, None, 1).await,
    );

    for reward_id in [a, b] {
        let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
        assert!(matches!(outcome, ClaimOutcome::Granted(_)), "{outcome:?}");
    }
    for reward_id in [a, b] {
        let again = claim(&db.pool, user_id, reward_id).await.expect("claim");
        assert_eq!(
            refusal(&again),
            Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
        );
    }
}

#[tokio::test]
async fn tiered_rewards_of_one_event_are_each_granted_with_its_own_slots() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let (bronze, silver) = (
        reward(&db.pool, event_id, None, 2).await,
        reward(&db.pool, event_id, None, 1).await,
    );
    let mut slots = Vec::new();
    for reward_id in [bronze, silver, bronze] {
        match claim(&db.pool, user_id, reward_id).await.expect("claim") {
            ClaimOutcome::Granted(granted) => slots.push(granted.slot),
            other => panic!("expected a grant, got {other:?}"),
        }
    }
    assert_eq!(slots, vec![1, 1, 2]);
}

#[tokio::test]
async fn max_rewards_per_user_limits_distinct_rewards_of_the_event() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        max_rewards_per_user: Some(2),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let a = reward(&db.pool, event_id, None, 2).await;
    let b = reward(&db.pool, event_id, None, 1).await;
    let c = reward(&db.pool, event_id, None, 1).await;
    for reward_id in [a, b, a] {
        let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
        assert!(
            matches!(outcome, ClaimOutcome::Granted(_)),
            "a second grant of A is no new reward: {outcome:?}"
        );
    }
    let third_reward = claim(&db.pool, user_id, c).await.expect("claim");
    assert_eq!(
        refusal(&third_reward),
        Some(ClaimRefusal::AlreadyClaimed { event_limit: true })
    );
    // another user has the whole allowance
    let other = user(&db.pool).await;
    let outcome = claim(&db.pool, other, c).await.expect("claim");
    assert!(matches!(outcome, ClaimOutcome::Granted(_)), "{outcome:?}");
}

#[tokio::test]
async fn max_rewards_per_user_holds_when_one_user_claims_every_reward_at_once() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        max_rewards_per_user: Some(2),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let mut rewards = Vec::new();
    for _ in 0..8 {
        rewards.push(reward(&db.pool, event_id, None, 1).await);
    }
    let tasks: Vec<_> = rewards
        .into_iter()
        .map(|reward_id| {
            let pool = db.pool.clone();
            tokio::spawn(async move { claim(&pool, user_id, reward_id).await })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        if matches!(
            task.await.expect("task").expect("claim"),
            ClaimOutcome::Granted(_)
        ) {
            granted += 1;
        }
    }
    assert_eq!(granted, 2);
    let successes = sqlx::query_scalar!(
        r#"select count(*) as "n!" from claims where user_id = $1 and status = 'success'"#,
        user_id
    )
    .fetch_one(&db.pool)
    .await
    .expect("count");
    assert_eq!(successes, 2);
}

#[tokio::test]
async fn a_limit_already_reached_is_refused_before_the_condition_is_evaluated() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        condition: json!({"loginDays": {"days": 1}}),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    // granted earlier, when the user met the condition (no login now)
    sqlx::query!(
        "insert into claims (user_id, reward_id, event_id, status, slot, reward_rank)
         values ($1, $2, $3, 'success', 1, 1)",
        user_id,
        reward_id,
        event_id
    )
    .execute(&db.pool)
    .await
    .expect("earlier grant");
    let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert_eq!(
        refusal(&outcome),
        Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
    );
    assert_eq!(
        claims_of(&db.pool, user_id).await.last(),
        Some(&("failed".to_owned(), Some("ALREADY_CLAIMED".to_owned())))
    );
}

#[tokio::test]
async fn a_sold_out_reward_is_refused_before_the_condition_is_evaluated() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow {
        condition: json!({"loginDays": {"days": 1}}),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let reward_id = reward(&db.pool, event_id, Some(0), 1).await;
    let outcome = claim(&db.pool, user_id, reward_id).await.expect("claim");
    assert_eq!(
        refusal(&outcome),
        Some(ClaimRefusal::SoldOut { event_cap: false })
    );
}

#[tokio::test]
async fn identical_refusals_within_the_hour_are_one_counted_ledger_row() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let sold_out = reward(&db.pool, event_id, Some(0), 1).await;
    for _ in 0..5 {
        let outcome = claim(&db.pool, user_id, sold_out).await.expect("claim");
        assert_eq!(
            refusal(&outcome),
            Some(ClaimRefusal::SoldOut { event_cap: false })
        );
    }
    let rows = sqlx::query!(
        "select reason, attempts, last_attempt_at >= created_at as later from claims where user_id = $1",
        user_id
    )
    .fetch_all(&db.pool)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].reason.as_deref(), rows[0].attempts, rows[0].later),
        (Some("SOLD_OUT"), 5, Some(true))
    );
}
