//! Access-token tampering: every altered, foreign or stale token is a 401.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{PASSWORD, TestApp, assert_problem, spawn_app};

/// Header and claims of a JWT, without checking anything.
pub fn decode_unverified(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || {
        let part = parts.next().expect("a JWT part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (next(), next())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn sign(algorithm: Algorithm, kid: &str, secret: &str, claims: &Value) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

fn claims_for(user_id: Uuid, role: &str) -> Value {
    json!({"sub": user_id, "role": role, "iss": "liveops-api-server", "aud": "liveops", "iat": now(), "exp": now() + 600})
}

async fn me_status(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_authed("/auth/me", token).await
}

async fn user(app: &TestApp) -> (Uuid, String) {
    let (id, email) = app.new_user().await;
    let tokens = app.login(&email, PASSWORD).await;
    (id, tokens.access)
}

#[tokio::test]
async fn a_token_signed_with_the_server_secret_is_accepted() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    let token = sign(
        Algorithm::HS256,
        "primary",
        &app.jwt_secret,
        &claims_for(id, "USER"),
    );
    assert_eq!(me_status(&app, &token).await.status(), 200);
}

#[tokio::test]
async fn a_token_with_a_changed_payload_is_rejected() {
    let app = spawn_app().await;
    let (id, token) = user(&app).await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let forged = claims_for(id, "ADMIN");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).expect("json"));
    let tampered = parts.join(".");
    assert_problem(me_status(&app, &tampered).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_token_with_alg_none_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"primary"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims_for(id, "ADMIN")).expect("json"));
    for token in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
        assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
    }
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    let token = sign(
        Algorithm::HS256,
        "primary",
        &"k".repeat(48),
        &claims_for(id, "USER"),
    );
    assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_token_with_an_algorithm_outside_the_allow_list_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    let token = sign(
        Algorithm::HS512,
        "primary",
        &app.jwt_secret,
        &claims_for(id, "USER"),
    );
    assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn an_expired_token_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    let mut claims = claims_for(id, "USER");
    claims["iat"] = json!(now() - 3600);
    claims["exp"] = json!(now() - 120);
    let token = sign(Algorithm::HS256, "primary", &app.jwt_secret, &claims);
    assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    for (field, value) in [("aud", "someone-else"), ("iss", "evil-issuer")] {
        let mut claims = claims_for(id, "USER");
        claims[field] = json!(value);
        let token = sign(Algorithm::HS256, "primary", &app.jwt_secret, &claims);
        assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
    }
}

#[tokio::test]
async fn a_token_without_required_claims_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    for missing in ["exp", "iat", "iss", "aud", "sub", "role"] {
        let mut claims = claims_for(id, "USER");
        claims.as_object_mut().expect("object").remove(missing);
        let token = sign(Algorithm::HS256, "primary", &app.jwt_secret, &claims);
        assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
    }
}

#[tokio::test]
async fn a_token_with_an_unknown_kid_is_rejected() {
    let app = spawn_app().await;
    let (id, _) = user(&app).await;
    let token = sign(
        Algorithm::HS256,
        "rotated-away",
        &app.jwt_secret,
        &claims_for(id, "USER"),
    );
    assert_problem(me_status(&app, &token).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_token_signed_with_the_previous_key_is_accepted_during_rotation() {
    let previous = "p".repeat(40);
    let previous_for_config = previous.clone();
    let app = crate::support::spawn_app_with(move |config| {
        config.jwt_previous_secret = Some(api_server::config::Secret::new(previous_for_config));
    })
    .await;
    let (id, _) = user(&app).await;
    let token = sign(Algorithm::HS256, "previous", &previous, &claims_for(id, "USER"));
    assert_eq!(me_status(&app, &token).await.status(), 200);
    let wrong_kid = sign(Algorithm::HS256, "primary", &previous, &claims_for(id, "USER"));
    assert_problem(me_status(&app, &wrong_kid).await, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_missing_or_non_bearer_authorization_header_is_a_401() {
    let app = spawn_app().await;
    let missing = app.client.get(app.url("/auth/me")).send().await.expect("sent");
    assert_eq!(
        missing
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_problem(missing, 401, "UNAUTHORIZED").await;
    let basic = app
        .client
        .get(app.url("/auth/me"))
        .header("authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .expect("sent");
    assert_problem(basic, 401, "UNAUTHORIZED").await;
    let garbage = app.get_authed("/auth/me", "not.a.jwt").await;
    assert_problem(garbage, 401, "UNAUTHORIZED").await;
}
