//! Email verification against a real SMTP server (testkit's): the signup
//! mail arrives with its link, the link verifies, tokens are single-use and
//! expire, and a slow or failing mail server never slows a signup.

use serde_json::{Value, json};

use crate::support::{MAIL_DEADLINE, PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with_smtp};

const VERIFY: &str = "/auth/verify-email";

async fn email_verified(app: &TestApp, access: &str) -> bool {
    let me: Value = app.get_authed("/auth/me", access).await.json().await.expect("me");
    me["user"]["emailVerified"]
        .as_bool()
        .expect("emailVerified is a boolean")
}

#[tokio::test]
async fn signup_mails_a_link_that_verifies_the_address() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    let tokens = app.login(&email, PASSWORD).await;
    assert!(!email_verified(&app, &tokens.access).await);

    let mail = smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await;
    assert_eq!(mail.from, "no-reply@example.com");
    assert!(
        mail.data.contains("Subject: Confirm your email address"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    let token = app.token_in(&mail, VERIFY);

    let response = app.post_json(VERIFY, &json!({"token": token})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["emailVerified"], true);
    assert!(email_verified(&app, &tokens.access).await);
}

#[tokio::test]
async fn a_used_token_is_a_400_token_used_and_an_unknown_one_token_invalid() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    let token = app.token_in(&smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await, VERIFY);
    assert_eq!(
        app.post_json(VERIFY, &json!({"token": token})).await.status(),
        200
    );
    let again = app.post_json(VERIFY, &json!({"token": token})).await;
    assert_problem(again, 400, "TOKEN_USED").await;
    let unknown = app.post_json(VERIFY, &json!({"token": "no-such-token"})).await;
    assert_problem(unknown, 400, "TOKEN_INVALID").await;
}

#[tokio::test]
async fn an_expired_verification_token_is_a_400_token_expired() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (user_id, email) = app.new_user().await;
    let token = app.token_in(&smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await, VERIFY);
    let lifetime: f64 = sqlx::query_scalar!(
        r#"select extract(epoch from expires_at - created_at)::float8 as "seconds!" from account_tokens
           where user_id = $1"#,
        user_id
    )
    .fetch_one(&app.db)
    .await
    .expect("token row");
    assert_eq!(lifetime, 24.0 * 3600.0);
    sqlx::query!(
        "update account_tokens set expires_at = now() - interval '1 second' where user_id = $1",
        user_id
    )
    .execute(&app.db)
    .await
    .expect("expire");
    let response = app.post_json(VERIFY, &json!({"token": token})).await;
    assert_problem(response, 400, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes_and_mail_leaves_the_queue_once_sent() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let (_, email) = app.new_user().await;
    let token = app.token_in(&smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await, VERIFY);
    let stored: Vec<Vec<u8>> = sqlx::query_scalar!("select token_hash from account_tokens")
        .fetch_all(&app.db)
        .await
        .expect("hashes");
    assert_eq!(stored.len(), 1);
    assert!(!String::from_utf8_lossy(&stored[0]).contains(&token));
    wait_for_empty_outbox(&app).await;
}

#[tokio::test]
async fn resend_mails_a_new_link_retires_the_old_one_and_is_rate_limited() {
    let (app, smtp) = spawn_app_with_smtp(|config| config.rate_limit_mail_per_minute = 1).await;
    let (_, email) = app.new_user().await;
    let old = app.token_in(&smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await, VERIFY);
    let tokens = app.login(&email, PASSWORD).await;

    let resent = app
        .post_authed("/auth/verify-email/resend", &tokens.access, &json!({}))
        .await;
    assert_eq!(resent.status(), 202);
    let mails = smtp.wait_for_mails_to(&email, 2, MAIL_DEADLINE).await;
    let new = app.token_in(&mails[1], VERIFY);
    assert_ne!(old, new);

    let limited = app
        .post_authed("/auth/verify-email/resend", &tokens.access, &json!({}))
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "RATE_LIMITED").await;

    assert_problem(
        app.post_json(VERIFY, &json!({"token": old})).await,
        400,
        "TOKEN_USED",
    )
    .await;
    assert_eq!(app.post_json(VERIFY, &json!({"token": new})).await.status(), 200);
}

#[tokio::test]
async fn resend_needs_a_signed_in_unverified_user() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    let anonymous = app.post_json("/auth/verify-email/resend", &json!({})).await;
    assert_problem(anonymous, 401, "UNAUTHORIZED").await;
    let (_, email) = app.new_user().await;
    let token = app.token_in(&smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await, VERIFY);
    assert_eq!(
        app.post_json(VERIFY, &json!({"token": token})).await.status(),
        200
    );
    let tokens = app.login(&email, PASSWORD).await;
    let response = app
        .post_authed("/auth/verify-email/resend", &tokens.access, &json!({}))
        .await;
    assert_problem(response, 409, "EMAIL_ALREADY_VERIFIED").await;
}

#[tokio::test]
async fn a_stalled_mail_server_does_not_hold_up_signup() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    smtp.hold();
    let started = std::time::Instant::now();
    let (_, email) = app.new_user().await;
    // The mail server has not even greeted anyone yet: the signup answered
    // without waiting for it.
    assert!(smtp.received().is_empty());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    smtp.release();
    smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await;
}

#[tokio::test]
async fn a_mail_the_server_refuses_for_now_is_retried() {
    let (app, smtp) = spawn_app_with_smtp(|_| {}).await;
    smtp.refuse_next(1);
    let (_, email) = app.new_user().await;
    let mail = smtp.wait_for_mail_to(&email, MAIL_DEADLINE).await;
    app.token_in(&mail, VERIFY);
    wait_for_empty_outbox(&app).await;
}

#[tokio::test]
async fn without_smtp_url_mail_is_logged_and_leaves_the_queue() {
    let app = spawn_app().await;
    app.new_user().await;
    wait_for_empty_outbox(&app).await;
}

async fn wait_for_empty_outbox(app: &TestApp) {
    let deadline = std::time::Instant::now() + MAIL_DEADLINE;
    loop {
        let queued = sqlx::query_scalar!(r#"select count(*) as "n!" from mail_outbox"#)
            .fetch_one(&app.db)
            .await
            .expect("count");
        if queued == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{queued} mail(s) still queued"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
