//! GET /events and GET /events/{id}: what signed-in users can claim.

use api_server::role::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::claims_fixtures::{NewEvent, claim, reward, user_with_token};
use crate::support::{assert_problem, spawn_app};

fn event_ids(body: &Value) -> Vec<Value> {
    body["events"].as_array().map_or_else(Vec::new, |events| {
        events.iter().map(|e| e["id"].clone()).collect()
    })
}

#[tokio::test]
async fn events_list_scheduled_and_active_with_rewards_and_remaining_stock() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let active = NewEvent {
        condition: json!({"loginStreak": {"days": 7}}),
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let scheduled = NewEvent {
        starts_in_secs: 3600.0,
        ends_in_secs: 7200.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let ended = NewEvent {
        starts_in_secs: -7200.0,
        ends_in_secs: -3600.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let deleted = NewEvent {
        deleted: true,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let limited = reward(&app, active, Some(2)).await;
    let unlimited = reward(&app, active, None).await;
    sqlx::query("update rewards set claimed = 1 where id = $1")
        .bind(limited)
        .execute(&app.db)
        .await
        .expect("claimed");

    let response = app.get_authed("/events", &token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let ids = event_ids(&body);
    assert!(
        ids.contains(&json!(active)) && ids.contains(&json!(scheduled)),
        "{body}"
    );
    assert!(
        !ids.contains(&json!(ended)) && !ids.contains(&json!(deleted)),
        "{body}"
    );

    let event = body["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["id"] == json!(active)))
        .expect("active event");
    for field in [
        "namespace",
        "name",
        "displayName",
        "description",
        "startsAt",
        "endsAt",
        "timeZone",
        "phase",
    ] {
        assert!(event[field].is_string(), "{field} in {event}");
    }
    assert_eq!(event["phase"], "Active");
    assert_eq!(event["condition"], json!({"loginStreak": {"days": 7}}));
    let rewards = event["rewards"].as_array().expect("rewards");
    let by_id = |id: Uuid| {
        rewards
            .iter()
            .find(|r| r["id"] == json!(id))
            .cloned()
            .expect("reward")
    };
    let limited = by_id(limited);
    assert_eq!(
        (
            limited["quantity"].clone(),
            limited["claimed"].clone(),
            limited["remaining"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(limited["perUserLimit"], 1);
    assert!(limited["displayName"].is_string() && limited["name"].is_string());
    let unlimited = by_id(unlimited);
    assert!(unlimited["quantity"].is_null() && unlimited["remaining"].is_null());

    let with_ended: Value = app
        .get_authed("/events?include=ended", &token)
        .await
        .json()
        .await
        .expect("json");
    let ids = event_ids(&with_ended);
    assert!(
        ids.contains(&json!(ended)) && !ids.contains(&json!(deleted)),
        "{with_ended}"
    );
}

#[tokio::test]
async fn remaining_stock_follows_claims() {
    let app = spawn_app().await;
    let (_, token) = user_with_token(&app, Role::User).await;
    let event_id = NewEvent::default().insert(&app).await;
    let reward_id = reward(&app, event_id, Some(5)).await;
    assert_eq!(
        claim(&app, &token, &reward_id.to_string(), None).await.status(),
        201
    );
    let body: Value = app
        .get_authed(&format!("/events/{event_id}"), &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["event"]["rewards"][0]["remaining"], 4);
    assert_eq!(body["event"]["rewards"][0]["claimed"], 1);
}

#[tokio::test]
async fn one_event_by_id_for_any_role_and_404_when_deleted_or_unknown() {
    let app = spawn_app().await;
    let ended = NewEvent {
        starts_in_secs: -7200.0,
        ends_in_secs: -3600.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let deleted = NewEvent {
        deleted: true,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    for role in [Role::User, Role::Admin, Role::Operator, Role::Auditor] {
        let (_, token) = user_with_token(&app, role).await;
        let response = app.get_authed(&format!("/events/{ended}"), &token).await;
        assert_eq!(response.status(), 200, "{role}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["event"]["id"], json!(ended));
        assert_eq!(app.get_authed("/events", &token).await.status(), 200, "{role}");
    }
    let (_, token) = user_with_token(&app, Role::User).await;
    assert_problem(
        app.get_authed(&format!("/events/{deleted}"), &token).await,
        404,
        "EVENT_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get_authed(&format!("/events/{}", Uuid::new_v4()), &token)
            .await,
        404,
        "EVENT_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.get_authed("/events/not-an-id", &token).await,
        400,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn events_need_a_token_and_a_known_include() {
    let app = spawn_app().await;
    let anonymous = app.client.get(app.url("/events")).send().await.expect("sent");
    assert_problem(anonymous, 401, "UNAUTHORIZED").await;
    let (_, token) = user_with_token(&app, Role::User).await;
    assert_problem(
        app.get_authed("/events?include=everything", &token).await,
        400,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_lists_the_event_claim_and_reward_paths() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    for path in [
        "/events",
        "/events/{eventId}",
        "/claims/{rewardId}/claim",
        "/claims/me",
        "/claims",
        "/claims/user/{userId}",
        "/claims/filter",
        "/rewards",
        "/rewards/event/{eventId}",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn events_show_windows_hide_unannounced_ones_from_users_and_list_until_claims_close() {
    let app = spawn_app().await;
    let (_, player) = user_with_token(&app, Role::User).await;
    let (_, operator) = user_with_token(&app, Role::Operator).await;
    let unannounced = NewEvent {
        starts_in_secs: 7200.0,
        ends_in_secs: 9000.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let in_grace = NewEvent {
        starts_in_secs: -7200.0,
        ends_in_secs: -60.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    let announced = NewEvent {
        starts_in_secs: 7200.0,
        ends_in_secs: 9000.0,
        ..NewEvent::default()
    }
    .insert(&app)
    .await;
    for (id, sql) in [
        (
            unannounced,
            "update events set announce_at = now() + interval '1 hour' where id = $1",
        ),
        (
            announced,
            "update events set announce_at = now() - interval '1 hour' where id = $1",
        ),
        (
            in_grace,
            "update events set claim_until = now() + interval '1 hour', reset_at = '05:30' where id = $1",
        ),
    ] {
        sqlx::query(sql)
            .bind(id)
            .execute(&app.db)
            .await
            .expect("set window");
    }

    let body: Value = app
        .get_authed("/events", &player)
        .await
        .json()
        .await
        .expect("json");
    let ids = event_ids(&body);
    assert!(
        ids.contains(&json!(announced)) && ids.contains(&json!(in_grace)),
        "{body}"
    );
    assert!(!ids.contains(&json!(unannounced)), "{body}");
    let grace = body["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["id"] == json!(in_grace)))
        .expect("the event in its grace window");
    assert_ne!(grace["claimsCloseAt"], grace["endsAt"], "{grace}");
    assert_eq!(grace["resetAt"], json!("05:30"));
    assert_eq!(grace["announceAt"], Value::Null);

    let hidden = app.get_authed(&format!("/events/{unannounced}"), &player).await;
    assert_problem(hidden, 404, "EVENT_NOT_FOUND").await;
    let staff: Value = app
        .get_authed("/events", &operator)
        .await
        .json()
        .await
        .expect("json");
    assert!(event_ids(&staff).contains(&json!(unannounced)), "{staff}");
    let seen = app.get_authed(&format!("/events/{unannounced}"), &operator).await;
    assert_eq!(seen.status(), 200);
}
