//! POST /signals: Sum, Max and DistinctDays in local days, exactly once
//! under concurrent and repeated posts, the event window, limits.

use std::time::Duration as StdDuration;

use api_server::ingest::client_rate::{Budget, SignalBudgets};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Seoul;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    rate_limits::start_early_in_a_minute,
    signals_fixtures::{
        NAMESPACE, client_token, counter_value, post_signals, recorded_signals, request_token, seed_client,
        seed_game, signal,
    },
    support::{TestApp, assert_problem, spawn_app},
};

fn seoul(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    Seoul
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).expect("time"))
        .single()
        .expect("Seoul has no DST")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn sum_max_and_distinct_days_count_in_local_days_that_start_at_the_reset_hour() {
    let app = spawn_app().await;
    let game = seed_game(&app, "Asia/Seoul", "05:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let day = (Utc::now() - Duration::days(3))
        .with_timezone(&Seoul)
        .date_naive();
    let next = day.succ_opt().expect("next day");
    let instants = [
        seoul(day, 4, 59), // still the previous local day
        seoul(day, 5, 0),
        seoul(day, 23, 30),
        seoul(next, 4, 30), // still `day`
        seoul(next, 5, 0),
    ];
    let mut signals = Vec::new();
    for (i, (at, (delta, best))) in instants
        .iter()
        .zip([(1, 10), (2, 7), (3, 30), (4, 20), (5, 1)])
        .enumerate()
    {
        signals.push(signal(
            &format!("k{i}"),
            user,
            "kills",
            Some(("delta", delta)),
            *at,
        ));
        signals.push(signal(&format!("b{i}"), user, "best", Some(("value", best)), *at));
        signals.push(signal(&format!("d{i}"), user, "days", None, *at));
    }
    let response = post_signals(&app, &token, &signals).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("body");
    assert_eq!(body["accepted"], 15, "{body}");
    assert_eq!(body["duplicates"], 0);
    let key = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let previous = key(day.pred_opt().expect("previous day"));
    let (kills, best, days) = (game.counter("kills"), game.counter("best"), game.counter("days"));
    for (counter, expected) in [
        (kills, [15, 1, 9, 5]),
        (best, [30, 10, 30, 1]),
        (days, [3, 1, 1, 1]),
    ] {
        let keys = ["event".to_owned(), previous.clone(), key(day), key(next)];
        for (period, value) in keys.iter().zip(expected) {
            assert_eq!(
                counter_value(&app, counter, user, period).await,
                Some(value),
                "{period}"
            );
        }
    }
    // Another signal on a day already seen adds no day.
    let again = [signal("d-late", user, "days", None, seoul(day, 12, 0))];
    let body: Value = post_signals(&app, &token, &again)
        .await
        .json()
        .await
        .expect("body");
    assert_eq!(body["results"][0]["status"], "accepted");
    assert_eq!(counter_value(&app, days, user, "event").await, Some(3));
}

#[tokio::test]
async fn twenty_concurrent_posts_of_one_batch_count_each_signal_exactly_once() {
    let app = spawn_app().await;
    let game = seed_game(&app, "Asia/Seoul", "05:00", 5).await;
    let token = client_token(&app).await;
    let (first, _) = app.new_user().await;
    let (second, _) = app.new_user().await;
    let now = Utc::now();
    let mut signals = Vec::new();
    for i in 0..20_i64 {
        let at = now - Duration::hours(5 * i);
        signals.push(signal(
            &format!("k{i}"),
            first,
            "kills",
            Some(("delta", i + 1)),
            at,
        ));
        signals.push(signal(&format!("b{i}"), second, "best", Some(("value", i)), at));
        signals.push(signal(&format!("d{i}"), first, "days", None, at));
    }
    let posts = (0..20).map(|_| post_signals(&app, &token, &signals));
    let mut accepted = 0;
    for response in futures::future::join_all(posts).await {
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("body");
        let counts = (body["accepted"].as_u64(), body["duplicates"].as_u64());
        let (Some(now_counted), Some(duplicates)) = counts else {
            panic!("{body}");
        };
        assert_eq!(now_counted + duplicates, 60);
        accepted += now_counted;
    }
    assert_eq!(accepted, 60);
    assert_eq!(recorded_signals(&app).await, 60);
    assert_eq!(
        counter_value(&app, game.counter("kills"), first, "event").await,
        Some(210)
    );
    assert_eq!(
        counter_value(&app, game.counter("best"), second, "event").await,
        Some(19)
    );
    let days: i64 = sqlx::query_scalar("select count(*) from counter_days where counter_id = $1")
        .bind(game.counter("days"))
        .fetch_one(&app.db)
        .await
        .expect("days");
    assert_eq!(
        counter_value(&app, game.counter("days"), first, "event").await,
        Some(days)
    );
    // A later repeat is all duplicates and changes nothing.
    let body: Value = post_signals(&app, &token, &signals)
        .await
        .json()
        .await
        .expect("body");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(60))
    );
    assert_eq!(
        counter_value(&app, game.counter("kills"), first, "event").await,
        Some(210)
    );
    let metrics = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("liveops_signals_total{status=\"accepted\"} 60"),
        "{metrics}"
    );
}

#[tokio::test]
async fn signals_outside_the_event_window_are_answered_but_not_counted() {
    let app = spawn_app().await;
    let game = seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let signals = [
        signal(
            "early",
            user,
            "kills",
            Some(("delta", 7)),
            Utc::now() - Duration::days(6),
        ),
        signal("inside", user, "kills", Some(("delta", 1)), Utc::now()),
    ];
    let body: Value = post_signals(&app, &token, &signals)
        .await
        .json()
        .await
        .expect("body");
    assert_eq!(
        body["results"][0],
        json!({"id": "early", "status": "outside_window"})
    );
    assert_eq!(body["results"][1], json!({"id": "inside", "status": "accepted"}));
    assert_eq!(
        counter_value(&app, game.counter("kills"), user, "event").await,
        Some(1)
    );
}

#[tokio::test]
async fn a_sum_past_the_int8_range_is_a_422_and_records_nothing() {
    let app = spawn_app().await;
    let game = seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let big = [signal("big", user, "huge", Some(("delta", i64::MAX)), Utc::now())];
    assert_eq!(post_signals(&app, &token, &big).await.status(), 200);
    let more = [signal("more", user, "huge", Some(("delta", 1)), Utc::now())];
    assert_problem(post_signals(&app, &token, &more).await, 422, "COUNTER_OVERFLOW").await;
    assert_eq!(
        counter_value(&app, game.counter("huge"), user, "event").await,
        Some(i64::MAX)
    );
    assert_eq!(recorded_signals(&app).await, 1);
}

#[tokio::test]
async fn a_client_over_its_signals_per_minute_gets_a_429_with_retry_after() {
    let app = spawn_app().await;
    start_early_in_a_minute(&app).await;
    seed_game(&app, "UTC", "00:00", 5).await;
    seed_client(&app, "slow", &["slow-secret"], &["kills"], 5).await;
    let response = request_token(&app, &format!("{NAMESPACE}/slow"), "slow-secret").await;
    let body: Value = response.json().await.expect("token");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let (user, _) = app.new_user().await;
    let batch = |prefix: &str| {
        (0..3)
            .map(|i| {
                signal(
                    &format!("{prefix}{i}"),
                    user,
                    "kills",
                    Some(("delta", 1)),
                    Utc::now(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(post_signals(&app, &token, &batch("a")).await.status(), 200);
    let limited = post_signals(&app, &token, &batch("b")).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "RATE_LIMITED").await;
    assert_eq!(recorded_signals(&app).await, 3);
}

#[tokio::test]
async fn replicas_spend_one_shared_budget_and_a_refused_batch_costs_nothing() {
    let app = spawn_app().await;
    start_early_in_a_minute(&app).await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let client = seed_client(&app, "shared", &["shared-secret"], &["kills"], 10).await;
    // two api-server replicas syncing the shared row on every batch
    let (one, two) = (
        SignalBudgets::new(StdDuration::ZERO),
        SignalBudgets::new(StdDuration::ZERO),
    );
    assert_eq!(spend(&app, &one, client, 6).await, Budget::Granted);
    // the second replica reads what the first one spent
    assert!(matches!(
        spend(&app, &two, client, 6).await,
        Budget::Exhausted {
            retry_after_seconds: 1..=60
        }
    ));
    assert_eq!(spend(&app, &two, client, 4).await, Budget::Granted);
    assert!(matches!(
        spend(&app, &two, client, 1).await,
        Budget::Exhausted { .. }
    ));
    assert_eq!(
        shared_hits(&app, client).await,
        10,
        "refused batches are not counted"
    );
    sqlx::query("update ingest_clients set suspended = true where id = $1")
        .bind(client)
        .execute(&app.db)
        .await
        .expect("suspend");
    assert_eq!(spend(&app, &one, client, 1).await, Budget::ClientGone);
}

#[tokio::test]
async fn between_syncs_a_replica_spends_the_budget_without_a_statement() {
    let app = spawn_app().await;
    start_early_in_a_minute(&app).await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let client = seed_client(&app, "local", &["local-secret"], &["kills"], 10).await;
    let budgets = SignalBudgets::new(StdDuration::from_secs(3600));
    assert_eq!(spend(&app, &budgets, client, 4).await, Budget::Granted);
    assert_eq!(spend(&app, &budgets, client, 6).await, Budget::Granted);
    assert!(matches!(
        spend(&app, &budgets, client, 1).await,
        Budget::Exhausted { .. }
    ));
    // only the first batch synced; the next sync carries the other six
    assert_eq!(shared_hits(&app, client).await, 4);
}

async fn spend(app: &TestApp, budgets: &SignalBudgets, client: Uuid, signals: usize) -> Budget {
    budgets.spend(&app.db, client, signals).await.expect("spend")
}

async fn shared_hits(app: &TestApp, client: Uuid) -> i32 {
    sqlx::query_scalar("select hits from rate_limit_counters where bucket = $1")
        .bind(format!("signals:client:{client}"))
        .fetch_one(&app.db)
        .await
        .expect("the shared row")
}

#[tokio::test]
async fn batches_over_500_signals_or_256_kib_are_413_and_up_to_them_are_accepted() {
    let app = spawn_app().await;
    seed_game(&app, "UTC", "00:00", 5).await;
    let token = client_token(&app).await;
    let (user, _) = app.new_user().await;
    let make = |count: usize, id_chars: usize| {
        (0..count)
            .map(|i| {
                let id = format!("{i:0>width$}", width = id_chars);
                signal(&id, user, "kills", Some(("delta", 1)), Utc::now())
            })
            .collect::<Vec<_>>()
    };
    assert_problem(
        post_signals(&app, &token, &make(501, 8)).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    // ~330 KiB: past the route's 256 KiB
    assert_problem(
        post_signals(&app, &token, &make(500, 520)).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    assert_eq!(recorded_signals(&app).await, 0);
    // ~120 KiB, over MAX_BODY_BYTES (64 KiB) but within the route's limit
    let response = post_signals(&app, &token, &make(500, 100)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(recorded_signals(&app).await, 500);
}
