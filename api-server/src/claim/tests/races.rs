//! Real concurrency against the claim transaction: the database decides.

use futures::future::join_all;
use liveops_testkit::TestDb;

use super::fixtures::claim;
use super::fixtures::{EventRow, reward, user};
use crate::claim::{ClaimOutcome, ClaimRefusal};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_users_against_a_stock_of_ten_get_exactly_ten() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, Some(10), 1).await;
    let mut users = Vec::new();
    for _ in 0..100 {
        users.push(user(&db.pool).await);
    }
    let outcomes = join_all(users.iter().map(|user_id| {
        let pool = db.pool.clone();
        let user_id = *user_id;
        tokio::spawn(async move { claim(&pool, user_id, reward_id).await })
    }))
    .await;
    let outcomes: Vec<ClaimOutcome> = outcomes
        .into_iter()
        .map(|joined| joined.expect("task").expect("claim never errors"))
        .collect();
    let granted = outcomes
        .iter()
        .filter(|o| matches!(o, ClaimOutcome::Granted(_)))
        .count();
    let sold_out = outcomes
        .iter()
        .filter(|o| matches!(o, ClaimOutcome::Refused(ClaimRefusal::SoldOut { .. })))
        .count();
    assert_eq!((granted, sold_out), (10, 90));
    let row = sqlx::query!(
        r#"select claimed, (select count(*) from claims where status = 'success') as "successes!",
                  (select count(*) from claims where reason = 'SOLD_OUT') as "failed!"
           from rewards where id = $1"#,
        reward_id
    )
    .fetch_one(&db.pool)
    .await
    .expect("counters");
    assert_eq!((row.claimed, row.successes, row.failed), (10, 10, 90));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_simultaneous_claims_by_one_user_grant_exactly_one() {
    let db = TestDb::new().await;
    let event_id = EventRow::default().insert(&db.pool).await;
    let reward_id = reward(&db.pool, event_id, None, 1).await;
    let user_id = user(&db.pool).await;
    let outcomes = join_all((0..30).map(|_| {
        let pool = db.pool.clone();
        tokio::spawn(async move { claim(&pool, user_id, reward_id).await })
    }))
    .await;
    let outcomes: Vec<ClaimOutcome> = outcomes
        .into_iter()
        .map(|joined| joined.expect("task").expect("claim never errors"))
        .collect();
    let granted = outcomes
        .iter()
        .filter(|o| matches!(o, ClaimOutcome::Granted(_)))
        .count();
    let already = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                ClaimOutcome::Refused(ClaimRefusal::AlreadyClaimed { event_limit: false })
            )
        })
        .count();
    assert_eq!((granted, already), (1, 29));
    let claimed = sqlx::query_scalar!("select claimed from rewards where id = $1", reward_id)
        .fetch_one(&db.pool)
        .await
        .expect("claimed");
    assert_eq!(claimed, 1);
}
