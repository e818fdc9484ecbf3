//! POST /claims/{rewardId}/claim over HTTP: grants, every refusal with its
//! status and code and its failed record, roles, and Idempotency-Key.

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::claims_fixtures::{NewEvent, claim, open_reward, reward, user_with_token};
use crate::support::{assert_problem, spawn_app};

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
            "REWARD_NOT_FOUND"
        ]
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
    assert_eq!(replayed, refused_body);

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
async fn a_key_still_in_progress_is_409_and_a_stale_one_is_taken_over() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (_, reward_id) = open_reward(&app, None).await;
    let path = format!("/claims/{reward_id}/claim");
    // reservations whose request never answered: one just now, one long ago
    sqlx::query(
        "insert into idempotency_keys (user_id, key, request_path, created_at)
         values ($1, 'busy', $2, now()), ($1, 'stale', $2, now() - interval '10 minutes')",
    )
    .bind(user_id)
    .bind(&path)
    .execute(&app.db)
    .await
    .expect("reservations");
    assert_problem(
        claim(&app, &token, &reward_id.to_string(), Some("busy")).await,
        409,
        "IDEMPOTENCY_KEY_IN_USE",
    )
    .await;
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), Some("stale"))
            .await
            .status(),
        201
    );
}
