//! POST /claims/{rewardId}/claim over HTTP: grants, every refusal with its
//! status and code and its failed record, roles, and Idempotency-Key.

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::claims_fixtures::{NewEvent, claim, open_reward, reward, user_with_token};
use crate::support::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_user_claims_a_reward_and_gets_201_with_the_claim() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (event_id, reward_id) = open_reward(&app, Some(3)).await;
    let response = claim(&app, &token, &reward_id.to_string(), None).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["claim"]["status"], "success");
    assert_eq!(body["claim"]["rewardId"], json!(reward_id));
    assert_eq!(body["claim"]["eventId"], json!(event_id));
    assert_eq!(body["claim"]["eventGeneration"], 3);
    assert_eq!(body["claim"]["reward"]["id"], json!(reward_id));
    assert!(
        body["claim"]["reward"]["name"].is_string() && body["claim"]["reward"]["displayName"].is_string()
    );
    assert_eq!(
        body["claim"]["reward"]["payload"],
        json!({"item": "gem", "count": 5})
    );
    assert!(body["message"].is_string());
    let stored: (Uuid, i64) =
        sqlx::query_as("select user_id, event_generation from claims where status = 'success'")
            .fetch_one(&app.db)
            .await
            .expect("claim row");
    assert_eq!(stored, (user_id, 3));
}

#[tokio::test]
async fn refusals_have_their_status_and_code_and_are_recorded_as_failed_claims() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;

    let (_, sold_out) = open_reward(&app, Some(0)).await;
    assert_problem(
        claim(&app, &token, &sold_out.to_string(), None).await,
        409,
        "SOLD_OUT",
    )
    .await;

    let (_, once) = open_reward(&app, None).await;
    assert_eq!(claim(&app, &token, &once.to_string(), None).await.status(), 201);
    assert_problem(
        claim(&app, &token, &once.to_string(), None).await,
        409,
        "ALREADY_CLAIMED",
    )
    .await;

    let streak = NewEvent {
        condition: json!({"loginStreak": {"days": 2}}),
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let streak_reward = reward(&app, streak, None).await;
    assert_problem(
        claim(&app, &token, &streak_reward.to_string(), None).await,
        400,
        "CONDITION_NOT_MET",
    )
    .await;

    for closed in [
        NewEvent {
            starts_in_secs: 60.0,
            ..NewEvent::default()
        },
        NewEvent {
            starts_in_secs: -120.0,
            ends_in_secs: -60.0,
            ..NewEvent::default()
        },
        NewEvent {
            suspended: true,
            ..NewEvent::default()
        },
        NewEvent {
            deleted: true,
            ..NewEvent::default()
        },
    ] {
        let event_id = closed.insert(&app).await;
        let reward_id = reward(&app, event_id, None).await;
        assert_problem(
            claim(&app, &token, &reward_id.to_string(), None).await,
            400,
            "EVENT_NOT_ACTIVE",
        )
        .await;
    }

    let unknown = Uuid::new_v4();
    assert_problem(
        claim(&app, &token, &unknown.to_string(), None).await,
        404,
        "REWARD_NOT_FOUND",
    )
    .await;

    let reasons: Vec<String> = sqlx::query_scalar(
        "select reason from claims where user_id = $1 and status = 'failed' order by created_at, id",
    )
    .bind(user_id)
    .fetch_all(&app.db)
    .await
    .expect("failed claims");
    assert_eq!(
        reasons,
        [
            "SOLD_OUT",
            "ALREADY_CLAIMED",
            "CONDITION_NOT_MET",
            "EVENT_NOT_ACTIVE",
            "EVENT_NOT_ACTIVE",
            "EVENT_NOT_ACTIVE",
            "EVENT_NOT_ACTIVE",
        ],
        "an unknown reward id is answered but not recorded"
    );
    let claimed: i32 = sqlx::query_scalar("select claimed from rewards where id = $1")
        .bind(sold_out)
        .fetch_one(&app.db)
        .await
        .expect("claimed");
    assert_eq!(claimed, 0);
}

#[tokio::test]
async fn a_malformed_reward_id_is_a_400() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    assert_problem(
        claim(&app, &token, "not-a-uuid", None).await,
        400,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn only_users_may_claim_and_a_token_is_required() {
    let app = spawn_app().await;
    let (_, reward_id) = open_reward(&app, None).await;
    for role in [Role::Admin, Role::Operator, Role::Auditor] {
        let (_, token) = user_with_token(&app, role).await;
        assert_problem(
            claim(&app, &token, &reward_id.to_string(), None).await,
            403,
            "FORBIDDEN",
        )
        .await;
    }
    let anonymous = app
        .client
        .post(app.url(&format!("/claims/{reward_id}/claim")))
        .send()
        .await
        .expect("sent");
    assert_problem(anonymous, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_gets_the_first_answer() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, Some(5)).await;
    let rid = reward_id.to_string();

    let first = claim(&app, &token, &rid, Some("key-1")).await;
    assert_eq!(first.status(), 201);
    let first_body: Value = first.json().await.expect("json");
    let retry = claim(&app, &token, &rid, Some("key-1")).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(
        retry
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(retry.json::<Value>().await.expect("json"), first_body);

    // a refusal is replayed too, with its problem body
    let refused = claim(&app, &token, &rid, Some("key-2")).await;
    let refused_body = assert_problem(refused, 409, "ALREADY_CLAIMED").await;
    let replayed = assert_problem(
        claim(&app, &token, &rid, Some("key-2")).await,
        409,
        "ALREADY_CLAIMED",
    )
    .await;
    let without_request_id = |mut body: Value| {
        body.as_object_mut().map(|fields| fields.remove("requestId"));
        body
    };
    assert_eq!(without_request_id(replayed), without_request_id(refused_body));

    let (successes, failures): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where status = 'success'), count(*) filter (where status = 'failed')
         from claims where user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .expect("counts");
    assert_eq!((successes, failures), (1, 1), "replays run nothing");
    let claimed: i32 = sqlx::query_scalar("select claimed from rewards where id = $1")
        .bind(reward_id)
        .fetch_one(&app.db)
        .await
        .expect("claimed");
    assert_eq!(claimed, 1);
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_reward_or_malformed_is_refused() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let (_, first) = open_reward(&app, None).await;
    let (_, second) = open_reward(&app, None).await;
    assert_eq!(
        claim(&app, &token, &first.to_string(), Some("k")).await.status(),
        201
    );
    assert_problem(
        claim(&app, &token, &second.to_string(), Some("k")).await,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    let too_long = "x".repeat(256);
    assert_problem(
        claim(&app, &token, &second.to_string(), Some(&too_long)).await,
        400,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn the_same_key_from_another_user_is_a_different_request() {
    let app = spawn_app().await;
    let (_, alice) = user_with_token(&app, Role::User).await;
    let (_, bob) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, None).await;
    assert_eq!(
        claim(&app, &alice, &reward_id.to_string(), Some("shared"))
            .await
            .status(),
        201
    );
    let response = claim(&app, &bob, &reward_id.to_string(), Some("shared")).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_client_that_disconnects_mid_claim_gets_that_claim_on_retry_even_after_minutes() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, None).await;
    sqlx::query("update rewards set per_user_limit = 5 where id = $1")
        .bind(reward_id)
        .execute(&app.db)
        .await
        .expect("limit");
    // The claim statement waits on the held reward row; the client gives up.
    let mut blocker = app.db.begin().await.expect("begin");
    sqlx::query("select id from rewards where id = $1 for update")
        .bind(reward_id)
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let impatient = app
        .client
        .post(app.url(&format!("/claims/{reward_id}/claim")))
        .bearer_auth(&token)
        .header("Idempotency-Key", "flaky-network")
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(impatient.is_err(), "the client disconnected: {impatient:?}");
    blocker.commit().await.expect("release");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let committed: Uuid = loop {
        let row: Option<Uuid> =
            sqlx::query_scalar("select id from claims where user_id = $1 and status = 'success'")
                .bind(user_id)
                .fetch_optional(&app.db)
                .await
                .expect("ledger");
        if let Some(id) = row {
            break id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the abandoned claim never committed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    for age_secs in [0.0, 600.0] {
        sqlx::query("update claim_idempotency_keys set created_at = now() - make_interval(secs => $1)")
            .bind(age_secs)
            .execute(&app.db)
            .await
            .expect("age the key");
        let retry = claim(&app, &token, &reward_id.to_string(), Some("flaky-network")).await;
        assert_eq!(retry.status(), 201);
        assert_eq!(
            retry
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        let body: Value = retry.json().await.expect("json");
        assert_eq!(body["claim"]["id"], json!(committed));
    }
    let successes: i64 =
        sqlx::query_scalar("select count(*) from claims where user_id = $1 and status = 'success'")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(successes, 1, "one ledger row, perUserLimit 5 notwithstanding");
}

#[tokio::test]
async fn claims_over_the_per_user_rate_limit_are_429_and_write_no_ledger_row() {
    let app = spawn_app_with(|config| config.rate_limit_claims_per_minute = 3).await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, Some(0)).await;
    for _ in 0..3 {
        assert_problem(
            claim(&app, &token, &reward_id.to_string(), None).await,
            409,
            "SOLD_OUT",
        )
        .await;
    }
    let limited = claim(&app, &token, &reward_id.to_string(), None).await;
    assert!(limited.headers().get("retry-after").is_some());
    assert_problem(limited, 429, "RATE_LIMITED").await;
    let unknown = claim(&app, &token, &Uuid::new_v4().to_string(), None).await;
    assert_problem(unknown, 429, "RATE_LIMITED").await;
    let (rows, attempts): (i64, i64) =
        sqlx::query_as("select count(*), coalesce(sum(attempts), 0)::bigint from claims where user_id = $1")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .expect("ledger");
    assert_eq!(
        (rows, attempts),
        (1, 3),
        "three refusals in one counted row, nothing for the 429s"
    );
    // another user has a budget of their own
    let (_, other) = user_with_token(&app, Role::User).await;
    assert_problem(
        claim(&app, &other, &reward_id.to_string(), None).await,
        409,
        "SOLD_OUT",
    )
    .await;
}
