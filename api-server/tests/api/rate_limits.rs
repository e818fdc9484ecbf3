//! Login and signup rate limits: 429 with Retry-After, off when set to 0.
//! (What login counts, and against whom: `login_limits.rs`.)

use serde_json::json;

use crate::support::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

/// The limits count per clock minute: a test that straddles a minute
/// boundary would see its counters reset. Start early in a minute instead
/// (by the database clock, which the windows use).
pub(crate) async fn start_early_in_a_minute(app: &crate::support::TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let second = sqlx::query_scalar!("select extract(second from now())::float8 as \"s!\"")
            .fetch_one(&app.db)
            .await
            .expect("clock");
        if second < 50.0 || std::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a numeric Retry-After header")
}

#[tokio::test]
async fn failures_over_the_per_address_limit_are_a_429_with_retry_after() {
    // L = 1: one failure per (address, account), three per address.
    let app = spawn_app_with(|config| config.rate_limit_login_per_minute = 1).await;
    start_early_in_a_minute(&app).await;
    let (_, email) = app.new_user().await;
    for attempt in 0..3 {
        let other = format!("other{attempt}@example.com");
        assert_eq!(app.login_response(&other, PASSWORD).await.status(), 401);
    }
    // A fourth attempt from the same address, even for a real account.
    let response = app.login_response(&email, PASSWORD).await;
    let seconds = retry_after(&response);
    assert!((1..=60).contains(&seconds), "{seconds}");
    assert_problem(response, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_trusted() {
    let app = spawn_app_with(|config| config.rate_limit_login_per_minute = 1).await;
    start_early_in_a_minute(&app).await;
    let body = json!({"email": "a@example.com", "password": PASSWORD});
    let first = app.post_json_from("10.0.0.1", "/auth/login", &body).await;
    assert_eq!(first.status(), 401);
    // Another claimed address, the same socket: the same (address, account).
    let second = app.post_json_from("10.0.0.2", "/auth/login", &body).await;
    assert_problem(second, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn signup_over_the_limit_is_a_429() {
    let app = spawn_app_with(|config| config.rate_limit_signup_per_minute = 2).await;
    start_early_in_a_minute(&app).await;
    assert_eq!(app.signup("one@example.com", PASSWORD).await.status(), 201);
    assert_eq!(app.signup("two@example.com", PASSWORD).await.status(), 201);
    let response = app.signup("three@example.com", PASSWORD).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 429, "RATE_LIMITED").await;
    let created = sqlx::query_scalar!("select count(*) as \"n!\" from users")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(created, 2);
}

#[tokio::test]
async fn a_limit_of_zero_turns_rate_limiting_off() {
    let app = spawn_app().await;
    assert_eq!(app.config.rate_limit_login_per_minute, 0);
    for _ in 0..15 {
        assert_eq!(
            app.login_response("nobody@example.com", PASSWORD).await.status(),
            401
        );
    }
    let rows = sqlx::query_scalar!("select count(*) as \"n!\" from rate_limit_counters")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(rows, 0, "no counting at all when off");
}

#[tokio::test]
async fn the_counters_live_in_postgres_so_replicas_share_them() {
    let app = spawn_app_with(|config| config.rate_limit_signup_per_minute = 1).await;
    assert_eq!(app.signup("one@example.com", PASSWORD).await.status(), 201);
    let hits = sqlx::query_scalar!(
        "select hits from rate_limit_counters where bucket = 'signup:email:one@example.com'"
    )
    .fetch_one(&app.db)
    .await
    .expect("counter row");
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn a_trusted_forwarded_for_counts_the_entry_the_proxy_appended() {
    let app = spawn_app_with(|config| {
        config.rate_limit_login_per_minute = 1;
        config.trust_forwarded_for = true;
    })
    .await;
    start_early_in_a_minute(&app).await;
    let body = json!({"email": "victim@example.com", "password": PASSWORD});
    // The client forged the first entries; the proxy appended 10.0.0.9.
    for (forged, expected) in [("1.1.1.1", 401), ("2.2.2.2", 429)] {
        let response = app
            .post_json_from(&format!("{forged}, 10.0.0.9"), "/auth/login", &body)
            .await;
        assert_eq!(response.status(), expected);
    }
}
