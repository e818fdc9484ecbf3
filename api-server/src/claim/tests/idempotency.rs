//! Idempotency-Key answered from the ledger: a committed claim answers
//! every retry with its key, even when the first request was abandoned
//! mid-flight (DESIGN.md, "Claims: integrity on every path").

use std::time::Duration;

use liveops_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::{EventRow, claim_with_key, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal, idempotency::forget_expired_keys};

fn claim_id(outcome: &ClaimOutcome) -> Uuid {
    match outcome {
        ClaimOutcome::Granted(granted) => granted.claim_id,
        ClaimOutcome::Refused(refusal) => panic!("expected a grant, got {refusal:?}"),
    }
}

async fn successes(db: &PgPool, user_id: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar!(
        "select id from claims where user_id = $1 and status = 'success' order by created_at",
        user_id
    )
    .fetch_all(db)
    .await
    .expect("successes")
}

#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_first_claim_and_never_grants_again() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 3).await;

    let first = claim_with_key(&db.pool, user_id, reward_id, Some("k-1"))
        .await
        .expect("claim");
    assert!(!first.replayed);
    let retry = claim_with_key(&db.pool, user_id, reward_id, Some("k-1"))
        .await
        .expect("retry");
    assert!(retry.replayed);
    assert_eq!(retry.outcome, first.outcome, "the same claim, payload and all");
    assert_eq!(successes(&db.pool, user_id).await, vec![claim_id(&first.outcome)]);
    // a new key is a new claim (perUserLimit 3)
    let second = claim_with_key(&db.pool, user_id, reward_id, Some("k-2"))
        .await
        .expect("claim");
    assert_ne!(claim_id(&second.outcome), claim_id(&first.outcome));
}

#[tokio::test]
async fn a_claim_abandoned_mid_flight_is_answered_to_the_retry_even_after_minutes() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 2).await;

    // Hold the reward row so the claim statement stops at its stock update,
    // then give up on the request, as a client that disconnects does.
    let mut blocker = db.pool.begin().await.expect("begin");
    sqlx::query!("select id from rewards where id = $1 for update", reward_id)
        .fetch_one(&mut *blocker)
        .await
        .expect("lock");
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        claim_with_key(&db.pool, user_id, reward_id, Some("dropped")),
    )
    .await;
    assert!(abandoned.is_err(), "the claim waits for the lock: {abandoned:?}");
    blocker.commit().await.expect("release");

    // The statement commits on its own once the lock is gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let committed = loop {
        if let [id] = successes(&db.pool, user_id).await[..] {
            break id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the abandoned claim never committed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let retry = claim_with_key(&db.pool, user_id, reward_id, Some("dropped"))
        .await
        .expect("retry");
    assert!(retry.replayed);
    assert_eq!(claim_id(&retry.outcome), committed);

    // well past the old 60 s takeover window: still the same claim
    sqlx::query!("update claim_idempotency_keys set created_at = now() - interval '10 minutes'")
        .execute(&db.pool)
        .await
        .expect("age the key");
    let later = claim_with_key(&db.pool, user_id, reward_id, Some("dropped"))
        .await
        .expect("retry");
    assert_eq!(claim_id(&later.outcome), committed);
    assert_eq!(
        successes(&db.pool, user_id).await,
        vec![committed],
        "one ledger row"
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_key_grant_once_and_all_answer_that_claim() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 5).await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let pool = db.pool.clone();
            tokio::spawn(async move { claim_with_key(&pool, user_id, reward_id, Some("same")).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(claim_id(&task.await.expect("task").expect("claim").outcome));
    }
    let granted = successes(&db.pool, user_id).await;
    assert_eq!(granted.len(), 1, "perUserLimit 5, yet one key grants once");
    assert!(ids.iter().all(|id| *id == granted[0]), "{ids:?}");
}

#[tokio::test]
async fn a_refusal_is_answered_again_and_a_key_for_another_reward_is_refused() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let sold_out = reward(&db.pool, event_id, Some(0), 1).await;
    let other = reward(&db.pool, event_id, None, 1).await;

    let first = claim_with_key(&db.pool, user_id, sold_out, Some("k"))
        .await
        .expect("claim");
    assert_eq!(
        first.outcome,
        ClaimOutcome::Refused(ClaimRefusal::SoldOut { event_cap: false })
    );
    let retry = claim_with_key(&db.pool, user_id, sold_out, Some("k"))
        .await
        .expect("retry");
    assert!(retry.replayed);
    assert_eq!(retry.outcome, first.outcome);
    let reused = claim_with_key(&db.pool, user_id, other, Some("k"))
        .await
        .expect("claim");
    assert_eq!(
        reused.outcome,
        ClaimOutcome::Refused(ClaimRefusal::IdempotencyKeyReused)
    );
    assert!(
        successes(&db.pool, user_id).await.is_empty(),
        "a reused key claims nothing"
    );
    // the same key string of another user is that user's own key
    let stranger = user(&db.pool).await;
    let theirs = claim_with_key(&db.pool, stranger, other, Some("k"))
        .await
        .expect("claim");
    assert!(matches!(theirs.outcome, ClaimOutcome::Granted(_)) && !theirs.replayed);
}

#[tokio::test]
async fn expired_keys_are_forgotten_in_batches_and_may_be_used_again() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 2).await;
    let first = claim_with_key(&db.pool, user_id, reward_id, Some("old"))
        .await
        .expect("claim");
    sqlx::query!("update claim_idempotency_keys set created_at = now() - interval '25 hours'")
        .execute(&db.pool)
        .await
        .expect("age the key");

    let forgotten = forget_expired_keys(&db.pool, Duration::from_secs(24 * 3600))
        .await
        .expect("cleanup");
    assert_eq!(forgotten, 1);
    let again = claim_with_key(&db.pool, user_id, reward_id, Some("old"))
        .await
        .expect("claim");
    assert!(!again.replayed);
    assert_ne!(claim_id(&again.outcome), claim_id(&first.outcome));
    assert_eq!(
        successes(&db.pool, user_id).await.len(),
        2,
        "the ledger keeps both claims"
    );
}
