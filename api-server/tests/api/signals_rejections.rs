//! POST /signals contract errors: any one rejects the whole batch with 422
//! SIGNALS_REJECTED listing every bad signal, and records nothing.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    signals_fixtures::{client_token, post_signals, recorded_signals, seed_game, signal},
    support::{assert_problem, spawn_app},
};

#[tokio::test]
async fn one_bad_signal_rejects_the_batch_and_records_nothing() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let now = Utc::now();
    let batch = [
        signal("a", user, "kills", Some(("delta", 1)), now),
        signal("b", user, "best", Some(("value", 3)), now),
        signal("c", user, "nope", Some(("delta", 1)), now),
        signal("d", user, "days", None, now),
    ];
    let body = assert_problem(post_signals(&app, &token, &batch).await, 422, "SIGNALS_REJECTED").await;
    assert_eq!(
        body["errors"],
        json!([{"index": 2, "id": "c", "code": "COUNTER_NOT_ALLOWED"}])
    );
    assert_eq!(recorded_signals(&app).await, 0);
    let values: i64 = sqlx::query_scalar("select count(*) from counter_values")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(values, 0);
}

#[tokio::test]
async fn every_contract_error_has_its_code_and_index() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let now = Utc::now();
    let mut both = signal("both", user, "kills", Some(("delta", 1)), now);
    both["value"] = json!(1);
    let mut bad_user = signal("bad-user", user, "kills", Some(("delta", 1)), now);
    bad_user["userId"] = json!("not-a-uuid");
    let cases = [
        (signal("ok", user, "kills", Some(("delta", 1)), now), None),
        (
            signal("unknown", user, "nope", Some(("delta", 1)), now),
            Some("COUNTER_NOT_ALLOWED"),
        ),
        (
            signal("hidden", user, "hidden", Some(("delta", 1)), now),
            Some("COUNTER_NOT_ALLOWED"),
        ),
        (
            signal("ghost", Uuid::new_v4(), "kills", Some(("delta", 1)), now),
            Some("UNKNOWN_USER"),
        ),
        (bad_user, Some("UNKNOWN_USER")),
        (
            signal("over", user, "kills", Some(("delta", 1001)), now),
            Some("AMOUNT_OUT_OF_BOUNDS"),
        ),
        (
            signal("under", user, "kills", Some(("delta", -1)), now),
            Some("AMOUNT_OUT_OF_BOUNDS"),
        ),
        (
            signal("missing", user, "kills", None, now),
            Some("AMOUNT_OUT_OF_BOUNDS"),
        ),
        (both, Some("AMOUNT_OUT_OF_BOUNDS")),
        (
            signal("delta-on-max", user, "best", Some(("delta", 1)), now),
            Some("AMOUNT_KIND_MISMATCH"),
        ),
        (
            signal("value-on-sum", user, "kills", Some(("value", 1)), now),
            Some("AMOUNT_KIND_MISMATCH"),
        ),
        (
            signal("amount-on-days", user, "days", Some(("delta", 1)), now),
            Some("AMOUNT_KIND_MISMATCH"),
        ),
        (
            signal(
                "future",
                user,
                "kills",
                Some(("delta", 1)),
                now + Duration::seconds(400),
            ),
            Some("OCCURRED_IN_FUTURE"),
        ),
        (
            signal(
                "ancient",
                user,
                "kills",
                Some(("delta", 1)),
                now - Duration::days(8),
            ),
            Some("OCCURRED_TOO_LONG_AGO"),
        ),
        (
            signal("ok", user, "kills", Some(("delta", 2)), now),
            Some("DUPLICATE_SIGNAL_ID"),
        ),
        (
            signal("", user, "kills", Some(("delta", 1)), now),
            Some("INVALID_SIGNAL_ID"),
        ),
    ];
    let batch: Vec<Value> = cases.iter().map(|(signal, _)| signal.clone()).collect();
    let body = assert_problem(post_signals(&app, &token, &batch).await, 422, "SIGNALS_REJECTED").await;
    let expected: Vec<Value> = cases
        .iter()
        .enumerate()
        .filter_map(|(index, (signal, code))| {
            code.map(|code| json!({"index": index, "id": signal["id"], "code": code}))
        })
        .collect();
    assert_eq!(body["errors"], json!(expected));
    assert_eq!(recorded_signals(&app).await, 0);
}

#[tokio::test]
async fn identical_repeats_in_a_batch_count_once() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let one = signal("same", user, "kills", Some(("delta", 4)), Utc::now());
    let response = post_signals(&app, &token, &[one.clone(), one]).await;
    let body: Value = response.json().await.expect("body");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(recorded_signals(&app).await, 1);
}

#[tokio::test]
async fn malformed_batches_are_a_400_and_missing_tokens_a_401() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let empty = app.post_authed("/signals", &token, &json!({"signals": []})).await;
    assert_problem(empty, 400, "VALIDATION_FAILED").await;
    let extra = app
        .post_authed("/signals", &token, &json!({"signals": [], "x": 1}))
        .await;
    assert_problem(extra, 400, "VALIDATION_FAILED").await;
    let anonymous = app.post_json("/signals", &json!({"signals": []})).await;
    assert_problem(anonymous, 401, "UNAUTHORIZED").await;
}
