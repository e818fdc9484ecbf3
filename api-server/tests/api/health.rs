//! /healthz, /readyz, /metrics, request ids, and the answers for unknown
//! routes and methods.

use api_server::role::Role;

use crate::claims_fixtures::{claim, open_reward, user_with_token};
use crate::support::{TestApp, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.expect("sent");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_answers_ok_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/readyz")).send().await.expect("sent");
    assert_eq!(response.status(), 200);
}

/// Makes the test's database refuse connections and drops the server's,
/// as if the database went away. Returns the database name.
async fn cut_off_database(app: &crate::support::TestApp) -> String {
    app.db.close().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&liveops_testkit::server_url())
        .await
        .expect("admin connection");
    let name = app
        .config
        .database_url
        .expose()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        r#"alter database "{name}" with allow_connections false"#
    )))
    .execute(&pool)
    .await
    .expect("forbid connections");
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(&name)
        .execute(&pool)
        .await
        .expect("terminate connections");
    name
}

#[tokio::test]
async fn readyz_is_a_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    cut_off_database(&app).await;
    let response = app.client.get(app.url("/readyz")).send().await.expect("sent");
    let body = assert_problem(response, 503, "UNAVAILABLE").await;
    assert!(
        body["requestId"].is_string(),
        "the problem carries the request id: {body}"
    );
}

#[tokio::test]
async fn an_unexpected_database_error_is_an_opaque_500_with_the_request_id() {
    let app = spawn_app().await;
    let (_, email) = app.new_user().await;
    let tokens = app.login(&email, crate::support::PASSWORD).await;
    let database = cut_off_database(&app).await;
    let response = app
        .client
        .get(app.url("/auth/invite-code"))
        .bearer_auth(&tokens.access)
        .header("x-request-id", "req-500")
        .send()
        .await
        .expect("sent");
    let body = assert_problem(response, 500, "INTERNAL").await;
    assert_eq!(body["requestId"], "req-500");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.contains(&database) && !detail.contains("connection"),
        "the detail is opaque: {detail}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_echoed() {
    let app = spawn_app().await;
    let generated = app.client.get(app.url("/healthz")).send().await.expect("sent");
    assert!(generated.headers().get("x-request-id").is_some());
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        echoed.headers().get("x-request-id").and_then(|v| v.to_str().ok()),
        Some("trace-abc-123")
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem_with_the_request_id() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/no/such/route"))
        .header("x-request-id", "req-404")
        .send()
        .await
        .expect("sent");
    let body = assert_problem(response, 404, "NOT_FOUND").await;
    assert_eq!(body["requestId"], "req-404");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/healthz")).send().await.expect("sent");
    assert_problem(response, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_method_and_status() {
    let app = spawn_app().await;
    app.client.get(app.url("/healthz")).send().await.expect("sent");
    let text = scrape(&app).await;
    assert!(
        text.lines()
            .any(|line| line.starts_with("liveops_http_requests_total")
                && line.contains("route=\"/healthz\"")
                && line.contains("method=\"GET\"")
                && line.contains("status=\"200\"")),
        "{text}"
    );
    assert!(
        text.contains("liveops_http_request_duration_seconds_bucket"),
        "a histogram, not a summary"
    );
}

#[tokio::test]
async fn metrics_label_parameterised_routes_by_their_template() {
    let app = spawn_app().await;
    let path = format!("/auth/users/{}/role", uuid::Uuid::new_v4());
    let response = app.client.patch(app.url(&path)).send().await.expect("sent");
    assert_eq!(response.status(), 401);
    let text = scrape(&app).await;
    assert!(
        text.lines()
            .any(|line| line.starts_with("liveops_http_requests_total")
                && line.contains("route=\"/auth/users/{userId}/role\"")
                && line.contains("status=\"401\"")),
        "{text}"
    );
    assert!(!text.contains(&path), "concrete ids never become labels");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_not_on_the_api_port() {
    let app = spawn_app().await;
    let on_api = app.client.get(app.url("/metrics")).send().await.expect("sent");
    assert_problem(on_api, 404, "NOT_FOUND").await;
    let text = scrape(&app).await;
    assert!(
        text.lines().any(|line| line == "liveops_database_up 1"),
        "the scrape checks the database: {text}"
    );
    let elsewhere = app
        .client
        .get(format!("{}/healthz", app.metrics_address))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        elsewhere.status(),
        404,
        "the metrics listener serves /metrics only"
    );
}

/// The text of the metrics listener's `/metrics`.
async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    response.text().await.expect("text")
}

#[tokio::test]
async fn claims_are_counted_by_outcome_and_reason() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, Some(3)).await;
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        201
    );
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        409
    );
    let text = scrape(&app).await;
    for (outcome, reason) in [("granted", "none"), ("refused", "already_claimed")] {
        assert!(
            text.lines().any(|line| line.starts_with("liveops_claims_total{")
                && line.contains(&format!("outcome=\"{outcome}\""))
                && line.contains(&format!("reason=\"{reason}\""))),
            "no {outcome}/{reason} series: {text}"
        );
    }
}

#[tokio::test]
async fn a_request_past_the_time_limit_is_a_503_timeout_with_retry_after() {
    // The time limit is one second; a database held by a lock keeps the
    // request waiting past it.
    let app = spawn_app_with(|config| config.request_timeout_seconds = 1).await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, Some(3)).await;
    let mut blocker = app.db.begin().await.expect("begin");
    sqlx::query("lock table rewards in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let response = claim(&app, &token, &reward_id.to_string(), Some("timeout-key")).await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_problem(response, 503, "TIMEOUT").await;
    blocker.rollback().await.expect("rollback");
    // The abandoned statement may still have committed once the lock went;
    // the retry with its key gets that grant or makes it, never a second.
    let retried = claim(&app, &token, &reward_id.to_string(), Some("timeout-key")).await;
    assert_eq!(retried.status(), 201);
    let granted: i64 = sqlx::query_scalar("select count(*) from claims where status = 'success'")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(granted, 1);
}
