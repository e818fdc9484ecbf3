//! POST /auth/login and the access token it returns.

use serde_json::{Value, json};

use crate::support::{PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn login_returns_both_tokens_sets_a_strict_cookie_and_records_the_login() {
    let app = spawn_app().await;
    let (id, email) = app.new_user().await;
    let response = app.login_response(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .expect("a Set-Cookie header")
        .to_owned();
    let body: Value = response.json().await.expect("json");
    let refresh = body["refreshToken"].as_str().expect("refreshToken");
    assert!(
        body["accessToken"]
            .as_str()
            .is_some_and(|token| token.split('.').count() == 3)
    );
    assert_eq!(body["expiresIn"], 900);
    assert!(
        cookie.starts_with(&format!("refresh_token={refresh};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let logins = sqlx::query_scalar!(
        "select count(*) as \"n!\" from user_logins where user_id = $1",
        id
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(logins, 1);
}

#[tokio::test]
async fn the_access_token_carries_iss_aud_exp_iat_sub_role_and_a_kid() {
    let app = spawn_app().await;
    let (id, email) = app.new_user().await;
    let tokens = app.login(&email, PASSWORD).await;
    let (header, claims) = crate::tokens::decode_unverified(&tokens.access);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], "primary");
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!(claims["role"], "USER");
    assert_eq!(claims["iss"], "liveops-api-server");
    assert_eq!(claims["aud"], "liveops");
    let iat = claims["iat"].as_u64().expect("iat");
    let exp = claims["exp"].as_u64().expect("exp");
    assert_eq!(exp - iat, 15 * 60);
}

#[tokio::test]
async fn login_with_a_wrong_password_is_a_401() {
    let app = spawn_app().await;
    let (id, email) = app.new_user().await;
    let response = app.login_response(&email, "wrong password!").await;
    assert_problem(response, 401, "UNAUTHORIZED").await;
    let logins = sqlx::query_scalar!(
        "select count(*) as \"n!\" from user_logins where user_id = $1",
        id
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(logins, 0, "a failed login is not a login");
}

#[tokio::test]
async fn login_with_an_unknown_email_is_the_same_401() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let unknown = assert_problem(
        app.login_response("nobody@example.com", PASSWORD).await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    let wrong = assert_problem(
        app.login_response(&email, "wrong password!").await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    assert_eq!(
        unknown["detail"], wrong["detail"],
        "the answer must not reveal which accounts exist"
    );
}

#[tokio::test]
async fn login_without_a_password_field_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .post_json("/auth/login", &json!({"email": "a@example.com"}))
        .await;
    assert_problem(response, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn login_with_an_overlong_password_is_the_same_401() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let response = app.login_response(&email, &"x".repeat(60_000)).await;
    let body = assert_problem(response, 401, "UNAUTHORIZED").await;
    assert_eq!(body["detail"], "invalid email or password");
}
