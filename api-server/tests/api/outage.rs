//! The database stopped and started under load: every endpoint answers 503
//! UNAVAILABLE with Retry-After while it is away, the server recovers by
//! itself, and no claim is lost or paid twice (DESIGN.md, "Claims:
//! integrity on every path").

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use api_server::role::Role;
use uuid::Uuid;

use crate::claims_fixtures::{claim, open_reward, user_with_token};
use crate::db_proxy::{proxy_in_front_of, through};
use crate::support::{TestApp, assert_problem, spawn_app_with};

/// What the load clients saw: claim id per Idempotency-Key answered 201,
/// and how many 503s.
#[derive(Default)]
struct Seen {
    granted: Mutex<HashMap<String, Uuid>>,
    unavailable: AtomicUsize,
}

/// Claims over and over as a careful client does: a new key per claim,
/// the same key again after a 503, until `stop` is set and its claim is in.
async fn claim_until_stopped(
    app: Arc<TestApp>,
    token: String,
    reward_id: Uuid,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
) {
    let mut key = Uuid::new_v4().to_string();
    loop {
        let response = claim(&app, &token, &reward_id.to_string(), Some(&key)).await;
        match response.status().as_u16() {
            201 => {
                let body: serde_json::Value = response.json().await.expect("json");
                let id = body["claim"]["id"]
                    .as_str()
                    .and_then(|id| id.parse().ok())
                    .expect("claim id");
                seen.granted.lock().expect("lock").insert(key, id);
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                key = Uuid::new_v4().to_string();
            }
            503 => {
                assert!(
                    response.headers().get("retry-after").is_some(),
                    "503 without Retry-After"
                );
                seen.unavailable.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!(
                "unexpected {other}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
}

async fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let until = tokio::time::Instant::now() + deadline;
    while !done() {
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_database_outage_under_load_answers_503_then_recovers_without_losing_or_doubling_claims() {
    let proxy = proxy_in_front_of(&liveops_testkit::server_url()).await;
    let app = spawn_app_with(|config| {
        config.database_url = through(&proxy, config.database_url.expose()).into();
    })
    .await;
    let (_, reward_id) = open_reward(&app, None).await;
    sqlx::query("update rewards set per_user_limit = 100000 where id = $1")
        .bind(reward_id)
        .execute(&app.db)
        .await
        .expect("limit");
    let (_, browser) = user_with_token(&app, Role::User).await;
    let app = Arc::new(app);
    let (seen, stop) = (Arc::new(Seen::default()), Arc::new(AtomicBool::new(false)));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (_, token) = user_with_token(&app, Role::User).await;
        clients.push(tokio::spawn(claim_until_stopped(
            Arc::clone(&app),
            token,
            reward_id,
            Arc::clone(&seen),
            Arc::clone(&stop),
        )));
    }
    let granted = || seen.granted.lock().expect("lock").len();
    wait_until("claims flow", Duration::from_secs(20), || granted() >= 20).await;

    proxy.cut();
    wait_until("clients see 503", Duration::from_secs(30), || {
        seen.unavailable.load(Ordering::SeqCst) >= 4
    })
    .await;
    let listing = app.get_authed("/events", &browser).await;
    assert_eq!(
        listing.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_problem(listing, 503, "UNAVAILABLE").await;
    let login = app
        .login_response("nobody@example.com", "whatever-password")
        .await;
    assert_problem(login, 503, "UNAVAILABLE").await;

    proxy.restore().await;
    let before = granted();
    wait_until("claims flow again", Duration::from_secs(30), || {
        granted() >= before + 20
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        tokio::time::timeout(Duration::from_secs(30), client)
            .await
            .expect("client stops")
            .expect("client");
    }

    let answered = seen.granted.lock().expect("lock").clone();
    let stored: Vec<(Uuid, Option<String>)> =
        sqlx::query_as("select id, idempotency_key from claims where status = 'success' and reward_id = $1")
            .bind(reward_id)
            .fetch_all(&app.db)
            .await
            .expect("ledger");
    let claimed: i32 = sqlx::query_scalar("select claimed from rewards where id = $1")
        .bind(reward_id)
        .fetch_one(&app.db)
        .await
        .expect("claimed");
    assert_eq!(
        usize::try_from(claimed).expect("count"),
        stored.len(),
        "stock counter matches the ledger"
    );
    let by_key: HashMap<String, Uuid> = stored
        .iter()
        .map(|(id, key)| (key.clone().expect("every claim had a key"), *id))
        .collect();
    assert_eq!(by_key.len(), stored.len(), "no key was granted twice");
    assert_eq!(
        by_key, answered,
        "every granted claim was answered, with its own id, and nothing else was granted"
    );
}
