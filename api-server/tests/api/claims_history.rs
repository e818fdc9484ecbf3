//! Claim history: GET /claims/me, /claims, /claims/user/{id} and
//! /claims/filter, their roles, validation and keyset pagination.

use std::collections::HashSet;

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::claims_fixtures::{claim, open_reward, user_with_token};
use crate::support::{TestApp, assert_problem, spawn_app};

/// Inserts `n` claim rows for `user_id` on `reward_id`, one second apart,
/// the newest one second ago.
async fn insert_claims(app: &TestApp, user_id: Uuid, reward_id: Uuid, n: i32, status: &str) {
    sqlx::query(
        "insert into claims (user_id, reward_id, event_id, status, reason, slot, created_at)
         select $1, r.id, r.event_id, $3::claim_status,
                case when $3 = 'failed' then 'SOLD_OUT' end, i, now() - make_interval(secs => i)
         from rewards r, generate_series(1, $4) as i
         where r.id = $2",
    )
    .bind(user_id)
    .bind(reward_id)
    .bind(status)
    .bind(n)
    .execute(&app.db)
    .await
    .expect("insert claims");
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get_authed(path, token).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("json")
}

fn ids(body: &Value) -> Vec<String> {
    body["claims"].as_array().map_or_else(Vec::new, |claims| {
        claims
            .iter()
            .map(|claim| claim["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    })
}

#[tokio::test]
async fn my_claims_are_mine_newest_first_with_reward_and_event() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let (_, other) = user_with_token(&app, Role::User).await;
    let (event_id, reward_id) = open_reward(&app, None).await;
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        201
    );
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        409
    );
    assert_eq!(
        claim(&app, &other, &reward_id.to_string(), None).await.status(),
        201
    );

    let body = get_json(&app, "/claims/me", &token).await;
    assert!(body["message"].is_string());
    let claims = body["claims"].as_array().expect("claims");
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0]["status"], "failed");
    assert_eq!(claims[0]["reason"], "ALREADY_CLAIMED");
    assert_eq!(claims[1]["status"], "success");
    assert_eq!(claims[1]["reward"]["id"], json!(reward_id));
    assert!(
        claims[1]["reward"]["name"]
            .as_str()
            .is_some_and(|name| name.starts_with("reward-"))
    );
    assert_eq!(claims[1]["eventId"], json!(event_id));
    assert!(body["nextCursor"].is_null());
}

#[tokio::test]
async fn pages_follow_the_cursor_without_gaps_or_repeats_while_claims_arrive() {
    let app = spawn_app().await;
    let (user_id, _) = user_with_token(&app, Role::User).await;
    let (_, admin) = user_with_token(&app, Role::Admin).await;
    let (_, reward_id) = open_reward(&app, None).await;
    insert_claims(&app, user_id, reward_id, 25, "failed").await;
    let existing: HashSet<String> = sqlx::query_scalar::<_, Uuid>("select id from claims")
        .fetch_all(&app.db)
        .await
        .expect("ids")
        .into_iter()
        .map(|id| id.to_string())
        .collect();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/claims?limit=10&cursor={cursor}"),
            None => "/claims?limit=10".to_owned(),
        };
        let body = get_json(&app, &path, &admin).await;
        seen.extend(ids(&body));
        pages += 1;
        // new claims arrive between pages: they are newer than every cursor
        insert_claims(&app, user_id, reward_id, 1, "failed").await;
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no claim is listed twice");
    assert!(existing.is_subset(&unique), "every claim that existed is listed");
}

#[tokio::test]
async fn bad_limits_and_cursors_are_400s() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=garbage",
        "colour=blue",
    ] {
        let response = app.get_authed(&format!("/claims/me?{query}"), &token).await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn the_filter_narrows_by_each_field() {
    let app = spawn_app().await;
    let (alice, alice_token) = user_with_token(&app, Role::User).await;
    let (bob, bob_token) = user_with_token(&app, Role::User).await;
    let (_, auditor) = user_with_token(&app, Role::Auditor).await;
    let (event_a, reward_a) = open_reward(&app, None).await;
    let (_, reward_b) = open_reward(&app, Some(0)).await;
    assert_eq!(
        claim(&app, &alice_token, &reward_a.to_string(), None)
            .await
            .status(),
        201
    );
    assert_eq!(
        claim(&app, &bob_token, &reward_b.to_string(), None)
            .await
            .status(),
        409
    );
    assert_eq!(
        claim(&app, &bob_token, &reward_a.to_string(), None)
            .await
            .status(),
        201
    );

    let count = |body: Value| body["claims"].as_array().map_or(0, Vec::len);
    let filter = |query: String| {
        let app = &app;
        let auditor = auditor.clone();
        async move { get_json(app, &format!("/claims/filter?{query}"), &auditor).await }
    };
    assert_eq!(count(filter("status=success".into()).await), 2);
    assert_eq!(count(filter("status=failed".into()).await), 1);
    assert_eq!(count(filter(format!("eventId={event_a}")).await), 2);
    assert_eq!(count(filter(format!("userId={alice}")).await), 1);
    assert_eq!(
        count(filter(format!("userId={bob}&rewardId={reward_b}")).await),
        1
    );
    assert_eq!(
        count(filter("from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z".into()).await),
        3
    );
    assert_eq!(count(filter("to=2000-01-01T00:00:00Z".into()).await), 0);

    for bad in [
        "status=pending",
        "eventId=nope",
        "userId=123",
        "from=yesterday",
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "sort=asc",
    ] {
        let response = app.get_authed(&format!("/claims/filter?{bad}"), &auditor).await;
        assert_problem(response, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn staff_listings_admit_admin_operator_and_auditor_only() {
    let app = spawn_app().await;
    let (user_id, user_token) = user_with_token(&app, Role::User).await;
    let paths = [
        "/claims".to_owned(),
        format!("/claims/user/{user_id}"),
        "/claims/filter".to_owned(),
    ];
    for role in [Role::Admin, Role::Operator, Role::Auditor] {
        let (_, token) = user_with_token(&app, role).await;
        for path in &paths {
            assert_eq!(
                app.get_authed(path, &token).await.status(),
                200,
                "{role} GET {path}"
            );
        }
        assert_eq!(
            app.get_authed("/claims/me", &token).await.status(),
            200,
            "{role} GET /claims/me"
        );
    }
    for path in &paths {
        assert_problem(app.get_authed(path, &user_token).await, 403, "FORBIDDEN").await;
        let anonymous = app.client.get(app.url(path)).send().await.expect("sent");
        assert_problem(anonymous, 401, "UNAUTHORIZED").await;
    }
    assert_eq!(app.get_authed("/claims/me", &user_token).await.status(), 200);
}

#[tokio::test]
async fn one_users_claims_by_id_and_404_for_an_unknown_user() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let (_, operator) = user_with_token(&app, Role::Operator).await;
    let (_, reward_id) = open_reward(&app, None).await;
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        201
    );
    let body = get_json(&app, &format!("/claims/user/{user_id}"), &operator).await;
    assert_eq!(ids(&body).len(), 1);
    assert_eq!(body["claims"][0]["userId"], json!(user_id));
    let unknown = app
        .get_authed(&format!("/claims/user/{}", Uuid::new_v4()), &operator)
        .await;
    assert_problem(unknown, 404, "NOT_FOUND").await;
    let malformed = app.get_authed("/claims/user/42", &operator).await;
    assert_problem(malformed, 400, "VALIDATION_FAILED").await;
}
