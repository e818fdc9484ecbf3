//! Refusals recorded by the claim statement itself (issue 14): one counted
//! ledger row per identical refusal, the reason the answer gives, and no
//! refusal outliving the stock it was about.

use liveops_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::{EventRow, claim, refusal, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal};

/// `(reason, attempts)` of every failed claim of `user_id`.
async fn failed_rows(db: &PgPool, user_id: Uuid) -> Vec<(Option<String>, i32)> {
    sqlx::query!(
        "select reason, attempts from claims where user_id = $1 and status = 'failed' order by created_at",
        user_id
    )
    .fetch_all(db)
    .await
    .expect("read failed claims")
    .into_iter()
    .map(|row| (row.reason, row.attempts))
    .collect()
}

#[tokio::test]
async fn identical_sold_out_refusals_are_one_counted_row_and_a_restock_grants_at_once() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, Some(1), 5).await;
    let (first, late) = (user(&db.pool).await, user(&db.pool).await);
    assert!(matches!(
        claim(&db.pool, first, reward_id).await.expect("claim"),
        ClaimOutcome::Granted(_)
    ));

    for _ in 0..3 {
        let outcome = claim(&db.pool, late, reward_id).await.expect("claim");
        assert_eq!(
            refusal(&outcome),
            Some(ClaimRefusal::SoldOut { event_cap: false })
        );
    }
    assert_eq!(
        failed_rows(&db.pool, late).await,
        vec![(Some("SOLD_OUT".to_owned()), 3)]
    );

    // A raised quantity (kubectl edit) is claimable by the very next claim:
    // nothing about the refusal is remembered outside the ledger.
    sqlx::query!("update rewards set quantity = 2 where id = $1", reward_id)
        .execute(&db.pool)
        .await
        .expect("restock");
    assert!(matches!(
        claim(&db.pool, late, reward_id)
            .await
            .expect("claim after restock"),
        ClaimOutcome::Granted(_)
    ));
    let claimed = sqlx::query_scalar!("select claimed from rewards where id = $1", reward_id)
        .fetch_one(&db.pool)
        .await
        .expect("claimed");
    assert_eq!(claimed, 2);
}

#[tokio::test]
async fn a_limit_reached_before_the_stock_ran_out_is_recorded_as_already_claimed() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, Some(1), 1).await;
    let user_id = user(&db.pool).await;
    assert!(matches!(
        claim(&db.pool, user_id, reward_id).await.expect("claim"),
        ClaimOutcome::Granted(_)
    ));

    // Both the limit and the stock refuse now; the limit comes first
    // (DESIGN.md, "Refusal precedence"), in the answer and in the ledger.
    for _ in 0..2 {
        let again = claim(&db.pool, user_id, reward_id).await.expect("claim again");
        assert_eq!(
            refusal(&again),
            Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
        );
    }
    assert_eq!(
        failed_rows(&db.pool, user_id).await,
        vec![(Some("ALREADY_CLAIMED".to_owned()), 2)]
    );
}
