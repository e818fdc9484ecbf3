//! Days of use and who counts as a friend, as the claim conditions see
//! them: a refresh records a day of use (once a day), and
//! `referrals.verifiedOnly` counts only invitees with a verified address.

use serde_json::{Value, json};

use crate::{
    claims_fixtures::{NewEvent, claim, reward},
    support::{PASSWORD, TestApp, assert_problem, spawn_app},
};

async fn refresh(app: &TestApp, token: &str) -> String {
    let response = app
        .post_json("/auth/refresh", &json!({"refreshToken": token}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["refreshToken"].as_str().expect("refreshToken").to_owned()
}

#[tokio::test]
async fn refreshing_on_two_days_builds_a_two_day_streak() {
    let app = spawn_app().await;
    let event = NewEvent {
        starts_in_secs: -5.0 * 86400.0,
        ends_in_secs: 86400.0,
        condition: json!({"loginStreak": {"days": 2}}),
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let reward_id = reward(&app, event, None).await.to_string();
    let (user_id, email) = app.new_user().await;
    let tokens = app.login(&email, PASSWORD).await;
    // Only refreshes count from here: the password login is forgotten.
    sqlx::query!("delete from user_logins where user_id = $1", user_id)
        .execute(&app.db)
        .await
        .expect("forget the login");

    let mut live = refresh(&app, &tokens.refresh).await;
    live = refresh(&app, &live).await;
    let days = sqlx::query_scalar!(
        r#"select count(*) as "n!" from user_logins where user_id = $1 and via_refresh"#,
        user_id
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(days, 1, "two refreshes on one day record one day of use");
    let access = app.login(&email, PASSWORD).await.access;
    sqlx::query!(
        "delete from user_logins where user_id = $1 and not via_refresh",
        user_id
    )
    .execute(&app.db)
    .await
    .expect("forget the login");
    assert_problem(
        claim(&app, &access, &reward_id, None).await,
        400,
        "CONDITION_NOT_MET",
    )
    .await;

    // That day becomes yesterday; today's first refresh is a second day.
    sqlx::query!(
        "update user_logins set logged_in_at = logged_in_at - interval '1 day' where user_id = $1",
        user_id
    )
    .execute(&app.db)
    .await
    .expect("yesterday");
    refresh(&app, &live).await;
    let response = claim(&app, &access, &reward_id, None).await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn verified_only_referrals_count_only_invitees_who_verified() {
    let app = spawn_app().await;
    let (inviter, email) = app.new_user().await;
    let access = app.login(&email, PASSWORD).await.access;
    let event = NewEvent {
        condition: json!({"referrals": {"count": 1, "verifiedOnly": true}}),
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let reward_id = reward(&app, event, None).await.to_string();
    let code = sqlx::query_scalar!("select invite_code from users where id = $1", inviter)
        .fetch_one(&app.db)
        .await
        .expect("code");
    let signup = app
        .post_json(
            "/auth/signup",
            &json!({"email": "friend@example.com", "password": PASSWORD, "birthDate": "1995-01-01", "inviteCode": code}),
        )
        .await;
    assert_eq!(signup.status(), 201);
    assert_problem(
        claim(&app, &access, &reward_id, None).await,
        400,
        "CONDITION_NOT_MET",
    )
    .await;
    sqlx::query!("update users set email_verified_at = now() where email = 'friend@example.com'")
        .execute(&app.db)
        .await
        .expect("verify");
    assert_eq!(claim(&app, &access, &reward_id, None).await.status(), 201);
}
