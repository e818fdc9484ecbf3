//! Concurrent requests that race on one row end in clean 4xx answers,
//! never a 500 or a duplicate.

use futures::future::join_all;
use serde_json::json;

use crate::support::{PASSWORD, spawn_app};

#[tokio::test]
async fn concurrent_signups_with_one_email_create_one_account_and_409_the_rest() {
    let app = spawn_app().await;
    let attempts = (0..6).map(|_| app.signup("race@example.com", PASSWORD));
    let mut statuses: Vec<u16> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409]);
    let accounts = sqlx::query_scalar!("select count(*) as \"n!\" from users")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(accounts, 1);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_rotate_it_once_without_a_500() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let tokens = app.login(&email, PASSWORD).await;
    let body = json!({"refreshToken": tokens.refresh});
    let attempts = (0..5).map(|_| app.post_json("/auth/refresh", &body));
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    // Without a grace period the first rotation wins; every later attempt is
    // reuse of a spent token.
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 401), "{statuses:?}");
}
