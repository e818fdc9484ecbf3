//! Claims racing over HTTP with real concurrency: the database decides.

use api_server::role::Role;
use futures::future::join_all;

use crate::claims_fixtures::{NewEvent, claim, open_reward, reward, user_with_token};
use crate::support::spawn_app;

async fn statuses(requests: impl IntoIterator<Item = impl Future<Output = reqwest::Response>>) -> Vec<u16> {
    join_all(requests)
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_users_against_a_stock_of_ten_get_exactly_ten_rewards() {
    let app = spawn_app().await;
    let (_, reward_id) = open_reward(&app, Some(10)).await;
    let mut tokens = Vec::new();
    for _ in 0..100 {
        tokens.push(user_with_token(&app, Role::User).await.1);
    }
    let rid = reward_id.to_string();
    let statuses = statuses(tokens.iter().map(|token| claim(&app, token, &rid, None))).await;
    assert_eq!(
        (count(&statuses, 201), count(&statuses, 409)),
        (10, 90),
        "{statuses:?}"
    );
    let (claimed, failed): (i32, i64) = sqlx::query_as(
        "select claimed, (select count(*) from claims where reason = 'SOLD_OUT') from rewards where id = $1",
    )
    .bind(reward_id)
    .fetch_one(&app.db)
    .await
    .expect("counters");
    assert_eq!((claimed, failed), (10, 90));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_simultaneous_claims_by_one_user_grant_exactly_one() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, None).await;
    let rid = reward_id.to_string();
    let statuses = statuses((0..30).map(|_| claim(&app, &token, &rid, None))).await;
    assert_eq!(
        (count(&statuses, 201), count(&statuses, 409)),
        (1, 29),
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_daily_reward_is_granted_once_per_local_day_even_under_simultaneous_claims() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let event_id = NewEvent {
        frequency: "Daily",
        time_zone: "America/New_York",
        starts_in_secs: -86400.0 * 7.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let reward_id = reward(&app, event_id, None).await;
    // yesterday's local day was claimed already; it must not block today
    sqlx::query(
        "insert into claims (user_id, reward_id, event_id, status, period_key)
         values ($1, $2, $3, 'success',
                 to_char((now() at time zone 'America/New_York') - interval '1 day', 'YYYY-MM-DD'))",
    )
    .bind(user_id)
    .bind(reward_id)
    .bind(event_id)
    .execute(&app.db)
    .await
    .expect("yesterday's claim");
    let rid = reward_id.to_string();
    let statuses = statuses((0..20).map(|_| claim(&app, &token, &rid, None))).await;
    assert_eq!(
        (count(&statuses, 201), count(&statuses, 409)),
        (1, 19),
        "{statuses:?}"
    );
    let periods: Vec<String> = sqlx::query_scalar(
        "select period_key from claims where status = 'success' and user_id = $1 order by period_key",
    )
    .bind(user_id)
    .fetch_all(&app.db)
    .await
    .expect("periods");
    assert_eq!(periods.len(), 2);
    assert_ne!(periods[0], periods[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_requests_with_one_idempotency_key_claim_once() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, None).await;
    let rid = reward_id.to_string();
    let statuses = statuses((0..10).map(|_| claim(&app, &token, &rid, Some("same-key")))).await;
    // the first answer (201) is replayed, or the key is still in use (409)
    assert!(count(&statuses, 201) >= 1, "{statuses:?}");
    assert_eq!(count(&statuses, 201) + count(&statuses, 409), 10, "{statuses:?}");
    let claims: i64 = sqlx::query_scalar("select count(*) from claims where user_id = $1")
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .expect("claims");
    assert_eq!(claims, 1, "one request ran; the others ran nothing");
}
