//! Game-server fixtures: an Event with Sum, Max and DistinctDays counters
//! and an IngestClient allowed to feed them, inserted by SQL as the
//! operator's projection would; plus helpers for tokens and signals.
#![allow(dead_code)]

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::support::TestApp;

/// The client's namespace and name.
pub const NAMESPACE: &str = "games";
/// The client's name.
pub const CLIENT: &str = "arena-server";
/// Its secret.
pub const SECRET: &str = "arena-secret-0123456789";

/// What `seed_game` created.
#[derive(Debug, Clone)]
pub struct Game {
    /// The event the counters count in.
    pub event_id: Uuid,
    /// The client's row.
    pub client_id: Uuid,
    /// `kills` (Sum, 0..=1000), `best` (Max), `days` (DistinctDays),
    /// `huge` (Sum, unbounded), `hidden` (Sum, not in the client's list).
    pub counters: Vec<(String, Uuid)>,
}

impl Game {
    /// The id of counter `name`.
    pub fn counter(&self, name: &str) -> Uuid {
        self.counters
            .iter()
            .find(|(counter, _)| counter == name)
            .map(|(_, id)| *id)
            .expect("a seeded counter")
    }
}

/// Seeds an event in `zone`, resetting daily at `reset_at` (HH:MM), that
/// started `started_days_ago` days ago and ends in 10 days.
pub async fn seed_game(app: &TestApp, zone: &str, reset_at: &str, started_days_ago: i32) -> Game {
    let event_id = Uuid::new_v4();
    sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation,
                             time_zone, claim_frequency, reset_at)
         values ($1, $2, 'arena-week', 'Arena week', now() - make_interval(days => $3),
                 now() + interval '10 days', 'Active', 1, $4, 'Daily', $5::time)",
    )
    .bind(event_id)
    .bind(NAMESPACE)
    .bind(started_days_ago)
    .bind(zone)
    .bind(reset_at)
    .execute(&app.db)
    .await
    .expect("seed event");
    let mut counters = Vec::new();
    for (name, aggregation, min, max) in [
        ("kills", "Sum", Some(0_i64), Some(1000_i64)),
        ("best", "Max", None, None),
        ("days", "DistinctDays", None, None),
        ("huge", "Sum", None, None),
        ("hidden", "Sum", None, None),
    ] {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into counters (id, namespace, name, event_id, display_name, aggregation,
                                   min_amount, max_amount, generation)
             values ($1, $2, $3, $4, $3, $5::counter_aggregation, $6, $7, 1)",
        )
        .bind(id)
        .bind(NAMESPACE)
        .bind(name)
        .bind(event_id)
        .bind(aggregation)
        .bind(min)
        .bind(max)
        .execute(&app.db)
        .await
        .expect("seed counter");
        counters.push((name.to_owned(), id));
    }
    let client_id = seed_client(app, CLIENT, &[SECRET], &["kills", "best", "days", "huge"], 60_000).await;
    Game {
        event_id,
        client_id,
        counters,
    }
}

/// An IngestClient row named `name` with `secrets` (stored hashed).
pub async fn seed_client(
    app: &TestApp,
    name: &str,
    secrets: &[&str],
    counters: &[&str],
    per_minute: i32,
) -> Uuid {
    let id = Uuid::new_v4();
    let hashes: Vec<Vec<u8>> = secrets
        .iter()
        .map(|secret| Sha256::digest(secret.as_bytes()).to_vec())
        .collect();
    let counters: Vec<String> = counters.iter().map(|c| (*c).to_owned()).collect();
    sqlx::query(
        "insert into ingest_clients (id, namespace, name, secret_hashes, counters, signals_per_minute, generation)
         values ($1, $2, $3, $4, $5, $6, 1)",
    )
    .bind(id)
    .bind(NAMESPACE)
    .bind(name)
    .bind(hashes)
    .bind(counters)
    .bind(per_minute)
    .execute(&app.db)
    .await
    .expect("seed client");
    id
}

/// POST /oauth/token with `client_id:secret` in Basic.
pub async fn request_token(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/token"))
        .header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}"))),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("request sent")
}

/// A token of the seeded client.
pub async fn client_token(app: &TestApp) -> String {
    let response = request_token(app, &format!("{NAMESPACE}/{CLIENT}"), SECRET).await;
    assert_eq!(response.status(), 200, "token request failed");
    let body: Value = response.json().await.expect("token body");
    body["access_token"].as_str().expect("access_token").to_owned()
}

/// One signal.
pub fn signal(id: &str, user: Uuid, counter: &str, amount: Option<(&str, i64)>, at: DateTime<Utc>) -> Value {
    let mut signal = json!({"id": id, "userId": user, "counter": counter, "occurredAt": at});
    if let Some((field, value)) = amount {
        signal[field] = json!(value);
    }
    signal
}

/// POST /signals with `signals`.
pub async fn post_signals(app: &TestApp, token: &str, signals: &[Value]) -> reqwest::Response {
    app.post_authed("/signals", token, &json!({ "signals": signals }))
        .await
}

/// A counter value, if the row exists.
pub async fn counter_value(app: &TestApp, counter: Uuid, user: Uuid, period_key: &str) -> Option<i64> {
    sqlx::query_scalar::<_, i64>(
        "select value from counter_values where counter_id = $1 and user_id = $2 and period_key = $3",
    )
    .bind(counter)
    .bind(user)
    .bind(period_key)
    .fetch_optional(&app.db)
    .await
    .expect("counter value")
}

/// How many signals are recorded in all.
pub async fn recorded_signals(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("select count(*) from counter_signals")
        .fetch_one(&app.db)
        .await
        .expect("count")
}
