//! Bad input of every kind is a 4xx problem+json, never a 500: malformed
//! JSON, wrong content type, unknown fields, oversized bodies, bad path
//! parameters.

use serde_json::json;

use crate::support::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    for body in [
        "{",
        "{\"email\": }",
        "not json",
        "{\"email\"",
        "{\"email\": \"a@b.co\",}",
    ] {
        let response = app
            .client
            .post(app.url("/auth/signup"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_problem(response, 400, "MALFORMED_JSON").await;
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_400() {
    let app = spawn_app().await;
    for body in [
        json!([]),
        json!("text"),
        json!({"email": 5, "password": "x", "birthDate": "1990-01-01"}),
        json!(null),
    ] {
        let response = app.post_json("/auth/signup", &body).await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_a_415() {
    let app = spawn_app().await;
    let body = r#"{"email":"a@example.com","password":"12345678"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app.client.post(app.url("/auth/login")).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("sent");
        assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    }
}

#[tokio::test]
async fn a_refresh_body_with_a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/refresh"))
        .header("content-type", "text/plain")
        .body("token")
        .send()
        .await
        .expect("sent");
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/auth/login",
            &json!({"email": "a@example.com", "password": "12345678", "remember": true}),
        )
        .await;
    let body = assert_problem(response, 400, "VALIDATION_FAILED").await;
    assert!(
        body["detail"].as_str().unwrap_or_default().contains("remember"),
        "{body}"
    );
    let refresh = app
        .post_json("/auth/refresh", &json!({"refreshToken": "x", "extra": 1}))
        .await;
    assert_problem(refresh, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app_with(|config| config.max_body_bytes = 1024).await;
    let big = json!({"email": "a@example.com", "password": "x".repeat(2000), "birthDate": "1990-01-01"});
    assert_problem(
        app.post_json("/auth/signup", &big).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let big_refresh = json!({"refreshToken": "x".repeat(2000)});
    assert_problem(
        app.post_json("/auth/refresh", &big_refresh).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
}

#[tokio::test]
async fn the_default_body_limit_is_64_kib() {
    let app = spawn_app().await;
    let big = json!({"email": "a@example.com", "password": "x".repeat(70 * 1024), "birthDate": "1990-01-01"});
    assert_problem(
        app.post_json("/auth/signup", &big).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_path_parameter_is_a_400_not_a_404_or_500() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_role(api_server::role::Role::Admin).await;
    for id in ["123", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "%00"] {
        let response = app
            .patch_authed(
                &format!("/auth/users/{id}/role"),
                &token,
                &json!({"role": "USER"}),
            )
            .await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn non_utf8_and_huge_strings_in_fields_are_4xx() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'])
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    assert!((400..500).contains(&status), "{status}");
    let long_email = format!("{}@example.com", "a".repeat(300));
    let response = app.signup(&long_email, "12345678").await;
    assert_problem(response, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn a_json_array_is_not_read_as_an_object() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_role(api_server::role::Role::User).await;
    // serde reads a struct from an array by position: this cleared two fields.
    let response = app
        .patch_authed("/auth/profile", &token, &json!([null, null]))
        .await;
    assert_problem(response, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn nul_characters_in_stored_text_are_4xx_never_500() {
    // Rate limits on: their buckets hold the typed email too.
    let app = spawn_app_with(|config| {
        config.rate_limit_login_per_minute = 100;
        config.rate_limit_signup_per_minute = 100;
    })
    .await;
    let (_, token) = app.user_with_role(api_server::role::Role::User).await;
    let bio = app
        .patch_authed("/auth/profile", &token, &json!({"bio": "a\u{0}b"}))
        .await;
    assert_problem(bio, 400, "VALIDATION_FAILED").await;
    let signup = app.signup("a\u{0}b@example.com", "12345678").await;
    assert_problem(signup, 400, "VALIDATION_FAILED").await;
    let invited = app
        .post_json(
            "/auth/signup",
            &json!({"email": "c@example.com", "password": "12345678", "birthDate": "1995-01-01",
                    "inviteCode": "AB\u{0}CD"}),
        )
        .await;
    assert_problem(invited, 400, "UNKNOWN_INVITE_CODE").await;
    let login = app.login_response("a\u{0}b@example.com", "12345678").await;
    assert_problem(login, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_null_refresh_body_means_no_body() {
    let app = spawn_app().await;
    let response = app.post_json("/auth/refresh", &json!(null)).await;
    assert_problem(response, 401, "UNAUTHORIZED").await;
}
