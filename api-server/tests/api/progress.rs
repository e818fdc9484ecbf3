//! GET /events/{eventId}/progress and GET /progress/me over HTTP: the
//! answer's shape, a tier opening at its target agreeing with the claim
//! (400 REQUIREMENTS_NOT_MET before, 201 after), and the 404 and 403 cases.

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::claims_fixtures::{NewEvent, claim, user_with_token};
use crate::support::{TestApp, assert_problem, spawn_app};

/// A counter `wins` of the event and a reward `tier` needing 3 wins.
async fn tier(app: &TestApp, event_id: Uuid) -> (Uuid, Uuid) {
    let counter_id = Uuid::new_v4();
    sqlx::query(
        "insert into counters (id, namespace, name, event_id, display_name, aggregation, generation)
         values ($1, 'default', 'wins', $2, 'Wins', 'Sum', 1)",
    )
    .bind(counter_id)
    .bind(event_id)
    .execute(&app.db)
    .await
    .expect("counter");
    let reward_id = Uuid::new_v4();
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, requires, generation)
         values ($1, $2, 'default', 'tier', 'Tier', $3, 1)",
    )
    .bind(reward_id)
    .bind(event_id)
    .bind(json!({"allOf": [{"counter": {"name": "wins", "atLeast": 3}}]}))
    .execute(&app.db)
    .await
    .expect("reward");
    (counter_id, reward_id)
}

#[tokio::test]
async fn progress_shows_the_target_and_agrees_with_the_claim_before_and_after_it_is_reached() {
    let app = spawn_app().await;
    let (user_id, token) = user_with_token(&app, Role::User).await;
    let event_id = NewEvent::default().insert(&app).await;
    let (counter_id, reward_id) = tier(&app, event_id).await;

    let response = app
        .get_authed(&format!("/events/{event_id}/progress"), &token)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["serverTime"].is_string() && body["event"]["nextTransitionAt"].is_string(),
        "{body}"
    );
    let reward = &body["event"]["rewards"][0];
    assert_eq!(
        (&reward["rewardId"], &reward["claimable"], &reward["reason"]),
        (&json!(reward_id), &json!(false), &json!("REQUIREMENTS_NOT_MET"))
    );
    assert_eq!(
        reward["requirements"],
        json!([{"path": "allOf[0]", "kind": "counter", "name": "wins", "window": "Event",
                "current": 0, "target": 3, "met": false}])
    );
    assert_problem(
        claim(&app, &token, &reward_id.to_string(), None).await,
        400,
        "REQUIREMENTS_NOT_MET",
    )
    .await;

    sqlx::query(
        "insert into counter_values (counter_id, user_id, period_key, value) values ($1, $2, 'event', 3)",
    )
    .bind(counter_id)
    .bind(user_id)
    .execute(&app.db)
    .await
    .expect("value");
    let body: Value = app
        .get_authed("/progress/me", &token)
        .await
        .json()
        .await
        .expect("json");
    let event = body["events"]
        .as_array()
        .and_then(|events| events.iter().find(|event| event["eventId"] == json!(event_id)))
        .expect("the open event is listed");
    assert_eq!(event["rewards"][0]["claimable"], json!(true));
    assert_eq!(event["rewards"][0]["reason"], Value::Null);
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        201
    );
}

#[tokio::test]
async fn an_unknown_event_is_404_and_only_users_have_progress() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let unknown = Uuid::new_v4();
    assert_problem(
        app.get_authed(&format!("/events/{unknown}/progress"), &token)
            .await,
        404,
        "EVENT_NOT_FOUND",
    )
    .await;
    let (_, admin) = user_with_token(&app, Role::Admin).await;
    assert_eq!(app.get_authed("/progress/me", &admin).await.status(), 403);
}
