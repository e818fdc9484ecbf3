//! PATCH /auth/users/{userId}/role and the role extractor's 403s.

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, assert_problem, spawn_app};

async fn change_role(app: &TestApp, token: &str, user: Uuid, role: &str) -> reqwest::Response {
    app.patch_authed(&format!("/auth/users/{user}/role"), token, &json!({"role": role}))
        .await
}

async fn stored_role(app: &TestApp, user: Uuid) -> String {
    sqlx::query_scalar!("select role::text as \"role!\" from users where id = $1", user)
        .fetch_one(&app.db)
        .await
        .expect("role")
}

#[tokio::test]
async fn an_admin_makes_a_user_an_operator() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (target, _) = app.new_user().await;
    let response = change_role(&app, &admin, target, "OPERATOR").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user"]["id"], target.to_string());
    assert_eq!(body["user"]["role"], "OPERATOR");
    assert!(body["user"]["email"].is_string() && body["message"].is_string());
    assert_eq!(stored_role(&app, target).await, "OPERATOR");
}

#[tokio::test]
async fn an_operator_makes_a_user_an_auditor() {
    let app = spawn_app().await;
    let (_, operator) = app.user_with_role(Role::Operator).await;
    let (target, _) = app.new_user().await;
    assert_eq!(
        change_role(&app, &operator, target, "AUDITOR").await.status(),
        200
    );
    assert_eq!(stored_role(&app, target).await, "AUDITOR");
}

#[tokio::test]
async fn an_operator_cannot_mint_an_admin() {
    let app = spawn_app().await;
    let (_, operator) = app.user_with_role(Role::Operator).await;
    let (target, _) = app.new_user().await;
    assert_problem(
        change_role(&app, &operator, target, "ADMIN").await,
        403,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(stored_role(&app, target).await, "USER");
}

#[tokio::test]
async fn an_operator_cannot_demote_an_admin() {
    let app = spawn_app().await;
    let (_, operator) = app.user_with_role(Role::Operator).await;
    let (admin, _) = app.user_with_role(Role::Admin).await;
    assert_problem(
        change_role(&app, &operator, admin, "USER").await,
        403,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(stored_role(&app, admin).await, "ADMIN");
}

#[tokio::test]
async fn an_admin_grants_and_removes_admin() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (target, _) = app.new_user().await;
    assert_eq!(change_role(&app, &admin, target, "ADMIN").await.status(), 200);
    assert_eq!(change_role(&app, &admin, target, "USER").await.status(), 200);
    assert_eq!(stored_role(&app, target).await, "USER");
}

#[tokio::test]
async fn nobody_changes_their_own_role() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.user_with_role(Role::Admin).await;
    assert_problem(
        change_role(&app, &admin, admin_id, "USER").await,
        403,
        "FORBIDDEN",
    )
    .await;
    let (operator_id, operator) = app.user_with_role(Role::Operator).await;
    assert_problem(
        change_role(&app, &operator, operator_id, "ADMIN").await,
        403,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(stored_role(&app, operator_id).await, "OPERATOR");
}

#[tokio::test]
async fn users_and_auditors_get_403() {
    let app = spawn_app().await;
    let (target, _) = app.new_user().await;
    for role in [Role::User, Role::Auditor] {
        let (_, token) = app.user_with_role(role).await;
        assert_problem(
            change_role(&app, &token, target, "OPERATOR").await,
            403,
            "FORBIDDEN",
        )
        .await;
    }
    assert_eq!(stored_role(&app, target).await, "USER");
}

#[tokio::test]
async fn an_unknown_role_is_a_400() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (target, _) = app.new_user().await;
    for role in ["SUPERUSER", "admin", ""] {
        assert_problem(
            change_role(&app, &admin, target, role).await,
            400,
            "VALIDATION_FAILED",
        )
        .await;
    }
    let wrong_type = app
        .patch_authed(&format!("/auth/users/{target}/role"), &admin, &json!({"role": 3}))
        .await;
    assert_problem(wrong_type, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn the_same_role_again_is_a_409() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (target, _) = app.new_user().await;
    assert_problem(
        change_role(&app, &admin, target, "USER").await,
        409,
        "ROLE_UNCHANGED",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_user_is_a_404_and_a_malformed_id_a_400() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    assert_problem(
        change_role(&app, &admin, Uuid::new_v4(), "OPERATOR").await,
        404,
        "NOT_FOUND",
    )
    .await;
    let response = app
        .patch_authed(
            "/auth/users/not-a-uuid/role",
            &admin,
            &json!({"role": "OPERATOR"}),
        )
        .await;
    assert_problem(response, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn a_demoted_operator_is_refused_even_with_an_unexpired_operator_token() {
    let app = spawn_app().await;
    let (operator_id, operator) = app.user_with_role(Role::Operator).await;
    let (target, _) = app.new_user().await;
    sqlx::query!("update users set role = 'USER' where id = $1", operator_id)
        .execute(&app.db)
        .await
        .expect("demote");
    assert_problem(
        change_role(&app, &operator, target, "AUDITOR").await,
        403,
        "FORBIDDEN",
    )
    .await;
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_an_admin() {
    let app = spawn_app().await;
    for round in 0..5 {
        sqlx::query!("update users set role = 'USER' where role = 'ADMIN'")
            .execute(&app.db)
            .await
            .expect("reset admins");
        let (first, first_token) = app.user_with_role(Role::Admin).await;
        let (second, second_token) = app.user_with_role(Role::Admin).await;
        let (one, other) = tokio::join!(
            change_role(&app, &first_token, second, "USER"),
            change_role(&app, &second_token, first, "USER"),
        );
        let mut statuses = [one.status().as_u16(), other.status().as_u16()];
        statuses.sort_unstable();
        // The second change waits for the first, then finds its caller demoted.
        assert_eq!(statuses, [200, 403], "round {round}");
        let admins = sqlx::query_scalar!(r#"select count(*) as "n!" from users where role = 'ADMIN'"#)
            .fetch_one(&app.db)
            .await
            .expect("count");
        assert_eq!(admins, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_role_change_revokes_the_targets_refresh_tokens() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (target, email) = app.new_user().await;
    let session = app.login(&email, crate::support::PASSWORD).await;
    assert_eq!(change_role(&app, &admin, target, "OPERATOR").await.status(), 200);
    let refreshed = app
        .post_json("/auth/refresh", &json!({"refreshToken": session.refresh}))
        .await;
    assert_problem(refreshed, 401, "UNAUTHORIZED").await;
    // A new login carries the new role.
    let tokens = app.login(&email, crate::support::PASSWORD).await;
    let (_, claims) = crate::tokens::decode_unverified(&tokens.access);
    assert_eq!(claims["role"], "OPERATOR");
}
