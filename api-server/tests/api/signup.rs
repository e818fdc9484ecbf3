//! POST /auth/signup.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn signup_creates_a_user_with_a_normalised_email_and_role_user() {
    let app = spawn_app().await;
    let response = app.signup("  Alice@Example.COM ", PASSWORD).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["role"], "USER");
    let id: Uuid = body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("uuid id");
    let stored = sqlx::query!(
        "select email, password_hash, birth_date::text as birth_date, invite_code from users where id = $1",
        id
    )
    .fetch_one(&app.db)
    .await
    .expect("row");
    assert_eq!(stored.email, "alice@example.com");
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "never the plain password"
    );
    assert_eq!(stored.birth_date.as_deref(), Some("1995-01-01"));
    assert_eq!(stored.invite_code.len(), 8);
}

#[tokio::test]
async fn signup_returns_409_when_the_email_is_taken_in_any_case() {
    let app = spawn_app().await;
    assert_eq!(app.signup("bob@example.com", PASSWORD).await.status(), 201);
    let response = app.signup("BOB@example.com", PASSWORD).await;
    assert_problem(response, 409, "EMAIL_TAKEN").await;
}

#[tokio::test]
async fn signup_refuses_invalid_emails() {
    let app = spawn_app().await;
    for email in ["", "not-an-email", "a@b", "a b@example.com", "@example.com"] {
        let response = app.signup(email, PASSWORD).await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn signup_refuses_passwords_shorter_than_8_or_longer_than_128_characters() {
    let app = spawn_app().await;
    let short = app.signup("short@example.com", "1234567").await;
    assert_problem(short, 400, "VALIDATION_FAILED").await;
    let long = app.signup("long@example.com", &"x".repeat(129)).await;
    assert_problem(long, 400, "VALIDATION_FAILED").await;
    assert_eq!(app.signup("exact@example.com", "12345678").await.status(), 201);
}

#[tokio::test]
async fn signup_requires_a_real_past_birth_date() {
    let app = spawn_app().await;
    let cases = [
        json!({"email": "a@example.com", "password": PASSWORD}),
        json!({"email": "a@example.com", "password": PASSWORD, "birthDate": null}),
        json!({"email": "a@example.com", "password": PASSWORD, "birthDate": "1995-02-30"}),
        json!({"email": "a@example.com", "password": PASSWORD, "birthDate": "yesterday"}),
        json!({"email": "a@example.com", "password": PASSWORD, "birthDate": "2999-01-01"}),
        json!({"email": "a@example.com", "password": PASSWORD, "birthDate": "1800-01-01"}),
    ];
    for body in cases {
        let response = app.post_json("/auth/signup", &body).await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
    let today = chrono::Utc::now().date_naive().to_string();
    let response = app
        .post_json(
            "/auth/signup",
            &json!({"email": "a@example.com", "password": PASSWORD, "birthDate": today}),
        )
        .await;
    assert_problem(response, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn signup_with_an_invite_code_records_the_referral() {
    let app = spawn_app().await;
    let (inviter_id, inviter_email) = app.new_user().await;
    let tokens = app.login(&inviter_email, PASSWORD).await;
    let code: Value = app
        .get_authed("/auth/invite-code", &tokens.access)
        .await
        .json()
        .await
        .expect("json");
    let code = code["inviteCode"].as_str().expect("code").to_lowercase();
    let response = app
        .post_json(
            "/auth/signup",
            &json!({"email": "friend@example.com", "password": PASSWORD, "birthDate": "2000-05-05", "inviteCode": code}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let invitee: Value = response.json().await.expect("json");
    let invitee_id: Uuid = invitee["id"].as_str().and_then(|id| id.parse().ok()).expect("id");
    let recorded = sqlx::query_scalar!(
        "select inviter_id from referrals where invitee_id = $1",
        invitee_id
    )
    .fetch_one(&app.db)
    .await
    .expect("referral row");
    assert_eq!(recorded, inviter_id);
}

#[tokio::test]
async fn signup_with_an_unknown_invite_code_is_a_400_and_creates_nobody() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/auth/signup",
            &json!({"email": "x@example.com", "password": PASSWORD, "birthDate": "2000-05-05", "inviteCode": "ZZZZZZZZ"}),
        )
        .await;
    assert_problem(response, 400, "UNKNOWN_INVITE_CODE").await;
    let users = sqlx::query_scalar!("select count(*) as \"n!\" from users")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(users, 0);
}

#[tokio::test]
async fn signup_generates_a_distinct_invite_code_per_user() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.new_user().await;
    }
    let distinct = sqlx::query_scalar!("select count(distinct invite_code) as \"n!\" from users")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(distinct, 5);
}

#[tokio::test]
async fn signup_cannot_choose_its_own_role() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/auth/signup",
            &json!({"email": "sneaky@example.com", "password": PASSWORD, "birthDate": "2000-05-05", "role": "ADMIN"}),
        )
        .await;
    let body = assert_problem(response, 400, "VALIDATION_FAILED").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown field"),
        "{body}"
    );
}
