//! Login limits strangers cannot turn against the owner (DESIGN.md,
//! "Accounts"; `account::login_limit`): failures count, not attempts; the
//! limits are per (address, account) and per address, never per account
//! alone; IPv6 addresses count by /64.

use serde_json::json;

use crate::{
    rate_limits::start_early_in_a_minute,
    support::{PASSWORD, TestApp, assert_problem, spawn_app_with},
};

async fn limited_app(per_minute: u32) -> TestApp {
    let app = spawn_app_with(|config| {
        config.rate_limit_login_per_minute = per_minute;
        config.trust_forwarded_for = true;
    })
    .await;
    // The limits count per clock minute; a test must not straddle one.
    start_early_in_a_minute(&app).await;
    app
}

async fn log_in_from(app: &TestApp, address: &str, email: &str, password: &str) -> reqwest::Response {
    app.post_json_from(
        address,
        "/auth/login",
        &json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn a_stranger_failing_from_one_address_cannot_lock_the_owner_out() {
    let app = limited_app(3).await;
    let (_, email) = app.new_user().await;
    let mut refused = 0;
    for _ in 0..12 {
        let response = log_in_from(&app, "203.0.113.5", &email, "guessed password").await;
        match response.status().as_u16() {
            401 => {}
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        refused >= 8,
        "the stranger's address is limited ({refused} refusals)"
    );
    // Even the right password is refused to the stranger's address...
    let stranger = log_in_from(&app, "203.0.113.5", &email, PASSWORD).await;
    assert_problem(stranger, 429, "RATE_LIMITED").await;
    // ...while the owner, from another address, logs in.
    let owner = log_in_from(&app, "198.51.100.7", &email, PASSWORD).await;
    assert_eq!(owner.status(), 200);
}

#[tokio::test]
async fn successful_logins_are_not_counted() {
    let app = limited_app(1).await;
    let (_, email) = app.new_user().await;
    for _ in 0..4 {
        assert_eq!(
            log_in_from(&app, "192.0.2.10", &email, PASSWORD).await.status(),
            200
        );
    }
    // The one failure allowed is still there.
    assert_eq!(
        log_in_from(&app, "192.0.2.10", &email, "wrong password")
            .await
            .status(),
        401
    );
    let over = log_in_from(&app, "192.0.2.10", &email, "wrong password").await;
    assert_problem(over, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn ipv6_addresses_in_one_slash_64_share_their_limit() {
    let app = limited_app(1).await;
    let email = "someone@example.com";
    assert_eq!(
        log_in_from(&app, "2001:db8:1:2::1", email, PASSWORD)
            .await
            .status(),
        401
    );
    // Another address of the same /64: the same bucket.
    let same_network = log_in_from(&app, "2001:db8:1:2:ffff::9", email, PASSWORD).await;
    assert_problem(same_network, 429, "RATE_LIMITED").await;
    // The next /64 is someone else.
    assert_eq!(
        log_in_from(&app, "2001:db8:1:3::1", email, PASSWORD)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn the_rightmost_untrusted_address_across_header_lines_is_the_client() {
    let app = spawn_app_with(|config| {
        config.rate_limit_login_per_minute = 1;
        config.trust_forwarded_for = true;
        config.trusted_proxies = "10.0.0.0/8".parse().expect("cidr");
    })
    .await;
    start_early_in_a_minute(&app).await;
    let send = |forged: &'static str| {
        app.client
            .post(app.url("/auth/login"))
            .header("x-forwarded-for", format!("{forged}, 203.0.113.9"))
            .header("x-forwarded-for", "10.1.2.3")
            .json(&json!({"email": "x@example.com", "password": PASSWORD}))
            .send()
    };
    // Whatever the client forges, it is 203.0.113.9 to the limits.
    assert_eq!(send("1.1.1.1").await.expect("sent").status(), 401);
    let second = send("2.2.2.2").await.expect("sent");
    assert_problem(second, 429, "RATE_LIMITED").await;
}
