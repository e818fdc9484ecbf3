//! POST /oauth/token (client credentials) and the separation of client and
//! user tokens.

use chrono::Utc;
use serde_json::Value;

use crate::{
    rate_limits::start_early_in_a_minute,
    signals_fixtures::{
        CLIENT, NAMESPACE, SECRET, client_token, post_signals, request_token, seed_client, seed_game, signal,
    },
    support::{assert_problem, spawn_app, spawn_app_with},
};

async fn oauth_error(response: reqwest::Response, status: u16, error: &str) {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    if status == 401 {
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok());
        assert!(challenge.is_some_and(|c| c.starts_with("Basic")), "{challenge:?}");
    }
    let body: Value = response.json().await.expect("json error");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn a_client_gets_a_bearer_token_with_its_plain_or_encoded_id() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    for id in [format!("{NAMESPACE}/{CLIENT}"), format!("{NAMESPACE}%2F{CLIENT}")] {
        let response = request_token(&app, &id, SECRET).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        let body: Value = response.json().await.expect("body");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        assert!(
            body["access_token"]
                .as_str()
                .is_some_and(|t| t.split('.').count() == 3)
        );
    }
}

#[tokio::test]
async fn both_secrets_work_during_a_rotation() {
    let app = spawn_app().await;
    seed_client(&app, "rotating", &["old-secret", "new-secret"], &[], 100).await;
    for secret in ["old-secret", "new-secret"] {
        let response = request_token(&app, &format!("{NAMESPACE}/rotating"), secret).await;
        assert_eq!(response.status(), 200, "{secret}");
    }
}

#[tokio::test]
async fn wrong_secrets_and_unknown_clients_are_invalid_client() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let id = format!("{NAMESPACE}/{CLIENT}");
    oauth_error(request_token(&app, &id, "wrong").await, 401, "invalid_client").await;
    oauth_error(
        request_token(&app, "games/nobody", SECRET).await,
        401,
        "invalid_client",
    )
    .await;
    oauth_error(request_token(&app, CLIENT, SECRET).await, 401, "invalid_client").await;
    let no_auth = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("sent");
    oauth_error(no_auth, 401, "invalid_client").await;
}

#[tokio::test]
async fn other_grants_and_missing_grants_are_refused_as_rfc_6749_says() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth(format!("{NAMESPACE}/{CLIENT}"), Some(SECRET))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded";
    oauth_error(
        post("grant_type=password", form).await.expect("sent"),
        400,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(post("scope=x", form).await.expect("sent"), 400, "invalid_request").await;
    oauth_error(
        post(
            "grant_type=client_credentials&grant_type=client_credentials",
            form,
        )
        .await
        .expect("sent"),
        400,
        "invalid_request",
    )
    .await;
    oauth_error(
        post("{\"grant_type\":\"client_credentials\"}", "application/json")
            .await
            .expect("sent"),
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn a_suspended_client_gets_no_token_and_its_tokens_stop_at_once() {
    let app = spawn_app().await;
    let game = seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let one = [signal("s1", user, "kills", Some(("delta", 1)), Utc::now())];
    assert_eq!(post_signals(&app, &token, &one).await.status(), 200);
    sqlx::query("update ingest_clients set suspended = true where id = $1")
        .bind(game.client_id)
        .execute(&app.db)
        .await
        .expect("suspend");
    let again = [signal("s2", user, "kills", Some(("delta", 1)), Utc::now())];
    assert_problem(post_signals(&app, &token, &again).await, 401, "UNAUTHORIZED").await;
    let id = format!("{NAMESPACE}/{CLIENT}");
    oauth_error(request_token(&app, &id, SECRET).await, 401, "invalid_client").await;
    sqlx::query("update ingest_clients set suspended = false, deleted_at = now() where id = $1")
        .bind(game.client_id)
        .execute(&app.db)
        .await
        .expect("delete");
    assert_problem(post_signals(&app, &token, &again).await, 401, "UNAUTHORIZED").await;
    oauth_error(request_token(&app, &id, SECRET).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn client_tokens_never_pass_on_user_routes_nor_user_tokens_on_signals() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let client = client_token(&app).await;
    assert_problem(app.get_authed("/auth/me", &client).await, 401, "UNAUTHORIZED").await;
    let (user, email) = app.new_user().await;
    let user_token = app.login(&email, crate::support::PASSWORD).await.access;
    assert_eq!(app.get_authed("/auth/me", &user_token).await.status(), 200);
    let one = [signal("s1", user, "kills", Some(("delta", 1)), Utc::now())];
    assert_problem(post_signals(&app, &user_token, &one).await, 401, "UNAUTHORIZED").await;
    assert_eq!(post_signals(&app, &client, &one).await.status(), 200);
}

#[tokio::test]
async fn failed_token_requests_are_limited_per_address_and_successes_do_not_count() {
    let app = spawn_app_with(|config| config.ingest.rate_limit_token_failures_per_minute = 2).await;
    start_early_in_a_minute(&app).await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let id = format!("{NAMESPACE}/{CLIENT}");
    for _ in 0..3 {
        assert_eq!(request_token(&app, &id, SECRET).await.status(), 200);
    }
    for _ in 0..2 {
        oauth_error(request_token(&app, &id, "wrong").await, 401, "invalid_client").await;
    }
    let limited = request_token(&app, &id, SECRET).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "RATE_LIMITED").await;
}
