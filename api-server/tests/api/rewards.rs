//! GET /rewards and GET /rewards/event/{eventId}: staff views of stock.

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::claims_fixtures::{NewEvent, claim, open_reward, reward, user_with_token};
use crate::support::{assert_problem, spawn_app};

#[tokio::test]
async fn staff_list_every_live_reward_with_quantity_claimed_and_remaining() {
    let app = spawn_app().await;
    let (_, user) = user_with_token(&app, Role::User).await;
    let (event_id, limited) = open_reward(&app, Some(3)).await;
    let unlimited = reward(&app, event_id, None).await;
    let gone = reward(&app, event_id, Some(1)).await;
    sqlx::query("update rewards set deleted_at = now() where id = $1")
        .bind(gone)
        .execute(&app.db)
        .await
        .expect("delete");
    assert_eq!(claim(&app, &user, &limited.to_string(), None).await.status(), 201);
    // a live reward row of a deleted Event is not live either
    let deleted_event = NewEvent {
        deleted: true,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let orphan = reward(&app, deleted_event, Some(10)).await;

    for role in [Role::Admin, Role::Operator, Role::Auditor] {
        let (_, token) = user_with_token(&app, role).await;
        let response = app.get_authed("/rewards", &token).await;
        assert_eq!(response.status(), 200, "{role}");
        let body: Value = response.json().await.expect("json");
        assert!(body["message"].is_string());
        let rewards = body["rewards"].as_array().expect("rewards");
        assert_eq!(rewards.len(), 2, "deleted rewards are hidden: {body}");
        assert!(rewards.iter().all(|r| r["id"] != json!(orphan)), "{body}");
        let limited = rewards
            .iter()
            .find(|r| r["id"] == json!(limited))
            .expect("limited");
        assert_eq!(
            (
                limited["quantity"].clone(),
                limited["claimed"].clone(),
                limited["remaining"].clone()
            ),
            (json!(3), json!(1), json!(2))
        );
        assert_eq!(limited["eventId"], json!(event_id));
        let unlimited = rewards
            .iter()
            .find(|r| r["id"] == json!(unlimited))
            .expect("unlimited");
        assert!(unlimited["remaining"].is_null());
    }
}

#[tokio::test]
async fn rewards_of_one_event_and_404_for_unknown_or_deleted_events() {
    let app = spawn_app().await;
    let (_, auditor) = user_with_token(&app, Role::Auditor).await;
    let (event_id, reward_id) = open_reward(&app, Some(1)).await;
    open_reward(&app, None).await; // another event's reward
    let body: Value = app
        .get_authed(&format!("/rewards/event/{event_id}"), &auditor)
        .await
        .json()
        .await
        .expect("json");
    let rewards = body["rewards"].as_array().expect("rewards");
    assert_eq!(rewards.len(), 1);
    assert_eq!(rewards[0]["id"], json!(reward_id));
    assert_eq!(rewards[0]["remaining"], 1);

    let deleted = NewEvent {
        deleted: true,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    assert_problem(
        app.get_authed(&format!("/rewards/event/{deleted}"), &auditor)
            .await,
        404,
        "EVENT_NOT_FOUND",
    )
    .await;
    let unknown = app
        .get_authed(&format!("/rewards/event/{}", Uuid::new_v4()), &auditor)
        .await;
    assert_problem(unknown, 404, "EVENT_NOT_FOUND").await;
    assert_problem(
        app.get_authed("/rewards/event/xyz", &auditor).await,
        400,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn users_may_not_list_rewards() {
    let app = spawn_app().await;
    let (_, user) = user_with_token(&app, Role::User).await;
    let (event_id, _) = open_reward(&app, None).await;
    assert_problem(app.get_authed("/rewards", &user).await, 403, "FORBIDDEN").await;
    assert_problem(
        app.get_authed(&format!("/rewards/event/{event_id}"), &user).await,
        403,
        "FORBIDDEN",
    )
    .await;
    let anonymous = app.client.get(app.url("/rewards")).send().await.expect("sent");
    assert_problem(anonymous, 401, "UNAUTHORIZED").await;
}
