//! GET /auth/me, PATCH /auth/profile, GET /auth/invite-code.

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, assert_problem, spawn_app};

async fn access_token(app: &TestApp) -> String {
    let (_, email) = app.new_user().await;
    app.login(&email, PASSWORD).await.access
}

#[tokio::test]
async fn me_returns_the_callers_account_in_the_seeds_shape() {
    let app = spawn_app().await;
    let (id, email) = app.new_user().await;
    let token = app.login(&email, PASSWORD).await.access;
    let response = app.get_authed("/auth/me", &token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert!(body["message"].is_string());
    assert_eq!(body["user"]["id"], id.to_string());
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["user"]["role"], "USER");
    assert_eq!(body["user"]["birthDate"], "1995-01-01");
    assert!(body["user"].get("passwordHash").is_none() && body["user"].get("password_hash").is_none());
}

#[tokio::test]
async fn profile_update_trims_the_nickname_and_stores_every_field() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    let response = app
        .patch_authed(
            "/auth/profile",
            &token,
            &json!({"nickname": "  dev  ", "bio": "I write backends.", "profileImageUrl": "https://cdn.example.com/me.png"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user"]["nickname"], "dev");
    assert_eq!(body["user"]["bio"], "I write backends.");
    assert_eq!(body["user"]["profileImageUrl"], "https://cdn.example.com/me.png");
    let me: Value = app
        .get_authed("/auth/me", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["user"]["nickname"], "dev");
}

#[tokio::test]
async fn profile_update_leaves_absent_fields_alone_and_null_clears_them() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    app.patch_authed(
        "/auth/profile",
        &token,
        &json!({"nickname": "keep", "bio": "old"}),
    )
    .await;
    let response = app
        .patch_authed("/auth/profile", &token, &json!({"bio": null}))
        .await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user"]["nickname"], "keep");
    assert!(body["user"]["bio"].is_null());
}

#[tokio::test]
async fn a_blank_nickname_is_a_400() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    for nickname in ["", "    ", "\t"] {
        let response = app
            .patch_authed("/auth/profile", &token, &json!({"nickname": nickname}))
            .await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn a_nickname_someone_else_has_is_a_409_in_any_case() {
    let app = spawn_app().await;
    let first = access_token(&app).await;
    let second = access_token(&app).await;
    let taken = app
        .patch_authed("/auth/profile", &first, &json!({"nickname": "Neo"}))
        .await;
    assert_eq!(taken.status(), 200);
    let response = app
        .patch_authed("/auth/profile", &second, &json!({"nickname": " neo "}))
        .await;
    assert_problem(response, 409, "NICKNAME_TAKEN").await;
    // Keeping one's own nickname is not a conflict.
    let again = app
        .patch_authed("/auth/profile", &first, &json!({"nickname": "Neo"}))
        .await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_profile_image_url_must_be_an_absolute_http_url() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    let long = format!("https://example.com/{}", "a".repeat(2100));
    for url in [
        "javascript:alert(1)",
        "ftp://example.com/a.png",
        "/me.png",
        "not a url",
        long.as_str(),
    ] {
        let response = app
            .patch_authed("/auth/profile", &token, &json!({"profileImageUrl": url}))
            .await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn a_bio_over_500_characters_is_a_400() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    let response = app
        .patch_authed("/auth/profile", &token, &json!({"bio": "가".repeat(501)}))
        .await;
    assert_problem(response, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn an_empty_profile_update_or_an_unknown_field_is_a_400() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    assert_problem(
        app.patch_authed("/auth/profile", &token, &json!({})).await,
        400,
        "VALIDATION_FAILED",
    )
    .await;
    let unknown = app
        .patch_authed("/auth/profile", &token, &json!({"email": "x@example.com"}))
        .await;
    assert_problem(unknown, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn profile_and_me_require_a_token() {
    let app = spawn_app().await;
    let response = app
        .client
        .patch(app.url("/auth/profile"))
        .json(&json!({"nickname": "x"}))
        .send()
        .await
        .expect("sent");
    assert_problem(response, 401, "UNAUTHORIZED").await;
    let response = app
        .client
        .get(app.url("/auth/invite-code"))
        .send()
        .await
        .expect("sent");
    assert_problem(response, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn invite_code_returns_the_code_stored_for_the_caller() {
    let app = spawn_app().await;
    let (id, email) = app.new_user().await;
    let token = app.login(&email, PASSWORD).await.access;
    let body: Value = app
        .get_authed("/auth/invite-code", &token)
        .await
        .json()
        .await
        .expect("json");
    let stored = sqlx::query_scalar!("select invite_code from users where id = $1", id)
        .fetch_one(&app.db)
        .await
        .expect("row");
    assert_eq!(body["inviteCode"], stored);
}
