//! Forgot, reset and change password against a real SMTP server: the
//! answers never tell whether an address has an account, a reset ends
//! every session, and reset tokens are single-use and expire.

use serde_json::{Value, json};

use crate::support::{MAIL_DEADLINE, PASSWORD, TestApp, assert_problem, spawn_app_with_smtp};

const RESET: &str = "/auth/password/reset";
const NEW_PASSWORD: &str = "a brand new horse";

async fn forgot(app: &TestApp, email: &str) -> (u16, Value) {
    let response = app
        .post_json("/auth/password/forgot", &json!({"email": email}))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/auth/refresh", &json!({"refreshToken": token}))
        .await
}

#[tokio::test]
async fn forgot_for_an_unknown_email_answers_as_for_a_known_one() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await;

    let known = forgot(&app, &email).await;
    let unknown = forgot(&app, "nobody-here@example.com").await;
    assert_eq!(known.0, 202);
    assert_eq!(known, unknown);
    // The known address gets its reset mail; the unknown one gets nothing.
    let mails = smtp.wait_for_mails_to(&email, 2, MAIL_DEADLINE).await;
    assert!(mails[1].data.contains("Subject: Reset your password"));
    assert!(smtp.received().iter().all(|mail| mail.to == [email.clone()]));
}

#[tokio::test]
async fn a_reset_sets_the_password_and_revokes_every_session() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    let phone = app.login(&email, PASSWORD).await;
    let laptop = app.login(&email, PASSWORD).await;

    assert_eq!(forgot(&app, &email).await.0, 202);
    let mails = smtp.wait_for_mails_to(&email, 2, MAIL_DEADLINE).await;
    let token = app.token_in(&mails[1], RESET);
    let response = app
        .post_json(RESET, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(response.status(), 200);

    for session in [&phone, &laptop] {
        assert_problem(refresh(&app, &session.refresh).await, 401, "UNAUTHORIZED").await;
    }
    assert_eq!(app.login_response(&email, PASSWORD).await.status(), 401);
    let fresh = app.login(&email, NEW_PASSWORD).await;
    // The reset link reached the mailbox, so the address counts as verified.
    let me: Value = app
        .get_authed("/auth/me", &fresh.access)
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["user"]["emailVerified"], true);

    let again = app
        .post_json(RESET, &json!({"token": token, "password": "another password"}))
        .await;
    assert_problem(again, 400, "TOKEN_USED").await;
}

#[tokio::test]
async fn an_expired_reset_token_is_a_400_token_expired_and_changes_nothing() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (user_id, email) = app.new_user().await;
    forgot(&app, &email).await;
    let mails = smtp.wait_for_mails_to(&email, 2, MAIL_DEADLINE).await;
    let token = app.token_in(&mails[1], RESET);
    let minutes: f64 = sqlx::query_scalar!(
        r#"select extract(epoch from expires_at - created_at)::float8 / 60 as "minutes!" from account_tokens
           where user_id = $1 and purpose = 'reset_password'"#,
        user_id
    )
    .fetch_one(&app.db)
    .await
    .expect("token row");
    assert_eq!(minutes, 30.0);
    sqlx::query!("update account_tokens set expires_at = now() where purpose = 'reset_password'")
        .execute(&app.db)
        .await
        .expect("expire");
    let response = app
        .post_json(RESET, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_problem(response, 400, "TOKEN_EXPIRED").await;
    app.login(&email, PASSWORD).await;
}

#[tokio::test]
async fn a_reset_with_a_short_password_is_refused_and_keeps_the_token_good() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    forgot(&app, &email).await;
    let token = app.token_in(&smtp.wait_for_mails_to(&email, 2, MAIL_DEADLINE).await[1], RESET);
    let short = app
        .post_json(RESET, &json!({"token": token, "password": "short"}))
        .await;
    assert_problem(short, 400, "VALIDATION_FAILED").await;
    let good = app
        .post_json(RESET, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(good.status(), 200);
}

#[tokio::test]
async fn change_password_needs_the_current_one_and_ends_the_other_sessions() {
    let (app, _smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    let other = app.login(&email, PASSWORD).await;
    let this = app.login(&email, PASSWORD).await;

    let wrong = app
        .post_authed(
            "/auth/password/change",
            &this.access,
            &json!({"currentPassword": "not my password", "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_problem(wrong, 400, "WRONG_PASSWORD").await;

    let changed = app
        .post_authed(
            "/auth/password/change",
            &this.access,
            &json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let body: Value = changed.json().await.expect("json");
    let new_refresh = body["refreshToken"].as_str().expect("refreshToken").to_owned();

    for old in [&other.refresh, &this.refresh] {
        assert_problem(refresh(&app, old).await, 401, "UNAUTHORIZED").await;
    }
    assert_eq!(refresh(&app, &new_refresh).await.status(), 200);
    assert_eq!(app.login_response(&email, PASSWORD).await.status(), 401);
    app.login(&email, NEW_PASSWORD).await;
}
