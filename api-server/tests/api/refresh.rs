//! POST /auth/refresh and /auth/logout: rotation, reuse detection, revocation.

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, Tokens, assert_problem, spawn_app, spawn_app_with};

async fn refresh_with_body(app: &TestApp, refresh: &str) -> reqwest::Response {
    app.post_json("/auth/refresh", &json!({"refreshToken": refresh}))
        .await
}

async fn tokens_of(response: reqwest::Response) -> Tokens {
    assert_eq!(response.status(), 200, "refresh failed");
    let body: Value = response.json().await.expect("json");
    Tokens {
        access: body["accessToken"].as_str().expect("accessToken").to_owned(),
        refresh: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
    }
}

async fn logged_in(app: &TestApp) -> Tokens {
    let (_, email) = app.new_user().await;
    app.login(&email, PASSWORD).await
}

#[tokio::test]
async fn refresh_rotates_the_token_and_returns_a_working_access_token() {
    let app = spawn_app().await;
    let first = logged_in(&app).await;
    let second = tokens_of(refresh_with_body(&app, &first.refresh).await).await;
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(app.get_authed("/auth/me", &second.access).await.status(), 200);
    let third = tokens_of(refresh_with_body(&app, &second.refresh).await).await;
    assert_ne!(third.refresh, second.refresh);
}

#[tokio::test]
async fn refresh_accepts_the_token_from_the_cookie() {
    let app = spawn_app().await;
    let first = logged_in(&app).await;
    let response = app
        .client
        .post(app.url("/auth/refresh"))
        .header("cookie", format!("theme=dark; refresh_token={}", first.refresh))
        .send()
        .await
        .expect("sent");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let second = tokens_of(response).await;
    assert!(
        cookie.starts_with(&format!("refresh_token={};", second.refresh)),
        "{cookie}"
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = logged_in(&app).await;
    let second = tokens_of(refresh_with_body(&app, &first.refresh).await).await;
    // The spent token comes back: someone copied it.
    assert_problem(refresh_with_body(&app, &first.refresh).await, 401, "UNAUTHORIZED").await;
    // The live token of the family is dead too.
    assert_problem(
        refresh_with_body(&app, &second.refresh).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    let revoked = sqlx::query_scalar!(
        "select count(*) as \"n!\" from refresh_token_families where revoked_at is not null"
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(revoked, 1);
}

#[tokio::test]
async fn reuse_in_one_family_leaves_other_sessions_alone() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let phone = app.login(&email, PASSWORD).await;
    let laptop = app.login(&email, PASSWORD).await;
    tokens_of(refresh_with_body(&app, &phone.refresh).await).await;
    assert_problem(refresh_with_body(&app, &phone.refresh).await, 401, "UNAUTHORIZED").await;
    tokens_of(refresh_with_body(&app, &laptop.refresh).await).await;
}

#[tokio::test]
async fn the_parent_of_the_live_token_is_accepted_within_the_grace_period() {
    let app = spawn_app_with(|config| config.refresh_reuse_grace_seconds = 30).await;
    let first = logged_in(&app).await;
    let second = tokens_of(refresh_with_body(&app, &first.refresh).await).await;
    // A second tab refreshes with the same parent moments later.
    let sibling = tokens_of(refresh_with_body(&app, &first.refresh).await).await;
    assert_ne!(sibling.refresh, second.refresh);
    assert_eq!(app.get_authed("/auth/me", &sibling.access).await.status(), 200);
    // A token two generations old is still reuse, grace or not.
    let third = tokens_of(refresh_with_body(&app, &sibling.refresh).await).await;
    let _ = third;
    assert_problem(refresh_with_body(&app, &first.refresh).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn an_unknown_or_missing_refresh_token_is_a_401() {
    let app = spawn_app().await;
    assert_problem(
        refresh_with_body(&app, "made-up-token").await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    let empty = app
        .client
        .post(app.url("/auth/refresh"))
        .send()
        .await
        .expect("sent");
    assert_problem(empty, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn an_expired_refresh_token_is_a_401() {
    let app = spawn_app().await;
    let tokens = logged_in(&app).await;
    sqlx::query!("update refresh_tokens set expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .expect("expire");
    assert_problem(
        refresh_with_body(&app, &tokens.refresh).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
}

#[tokio::test]
async fn refresh_picks_up_a_role_change() {
    let app = spawn_app().await;
    let (id, email) = app.new_user().await;
    let tokens = app.login(&email, PASSWORD).await;
    sqlx::query!("update users set role = 'AUDITOR' where id = $1", id)
        .execute(&app.db)
        .await
        .expect("role");
    let refreshed = tokens_of(refresh_with_body(&app, &tokens.refresh).await).await;
    let (_, claims) = crate::tokens::decode_unverified(&refreshed.access);
    assert_eq!(claims["role"], "AUDITOR");
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let tokens = logged_in(&app).await;
    let response = app
        .post_json("/auth/logout", &json!({"refreshToken": tokens.refresh}))
        .await;
    assert_eq!(response.status(), 204);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    assert_problem(
        refresh_with_body(&app, &tokens.refresh).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
}

#[tokio::test]
async fn logout_accepts_the_cookie_and_refuses_an_unknown_token() {
    let app = spawn_app().await;
    let tokens = logged_in(&app).await;
    let by_cookie = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", format!("refresh_token={}", tokens.refresh))
        .send()
        .await
        .expect("sent");
    assert_eq!(by_cookie.status(), 204);
    let unknown = app
        .post_json("/auth/logout", &json!({"refreshToken": "nope"}))
        .await;
    assert_problem(unknown, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let tokens = logged_in(&app).await;
    let hashes = sqlx::query_scalar!("select token_hash from refresh_tokens")
        .fetch_all(&app.db)
        .await
        .expect("rows");
    assert_eq!(hashes.len(), 1);
    assert_eq!(hashes[0].len(), 32);
    assert_ne!(hashes[0], tokens.refresh.as_bytes());
}

#[tokio::test]
async fn logout_without_any_refresh_token_is_a_401() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .expect("sent");
    assert_problem(response, 401, "UNAUTHORIZED").await;
}
