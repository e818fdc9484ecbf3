//! Rows and tokens for the claim, event and reward tests: users inserted
//! directly with minted access tokens (no argon2 per user, so a hundred
//! users cost milliseconds), and events placed relative to the database's
//! clock.

use api_server::{access_token::JwtKeys, role::Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

/// A user inserted directly, with an access token for `role`.
pub async fn user_with_token(app: &TestApp, role: Role) -> (Uuid, String) {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into users (id, email, password_hash, role, birth_date, invite_code)
         values ($1, $2, 'not-a-hash', $3, '2000-01-01', $4)",
    )
    .bind(id)
    .bind(format!("{}@example.com", id.simple()))
    .bind(role)
    .bind(id.simple().to_string())
    .execute(&app.db)
    .await
    .expect("insert user");
    let keys = JwtKeys::from_config(&app.config).expect("jwt keys");
    (id, keys.issue(id, role).expect("token"))
}

/// An event row; the window is in seconds relative to the database's now().
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub starts_in_secs: f64,
    pub ends_in_secs: f64,
    pub condition: Value,
    pub frequency: &'static str,
    pub time_zone: &'static str,
    pub suspended: bool,
    pub deleted: bool,
}

impl Default for NewEvent {
    fn default() -> Self {
        Self {
            starts_in_secs: -3600.0,
            ends_in_secs: 3600.0,
            condition: json!({}),
            frequency: "Once",
            time_zone: "UTC",
            suspended: false,
            deleted: false,
        }
    }
}

impl NewEvent {
    /// Inserts the event, returning its id.
    pub async fn insert(&self, app: &TestApp) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into events (id, namespace, name, display_name, description, starts_at, ends_at,
                                 time_zone, condition, claim_frequency, suspended, deleted_at, phase, generation)
             values ($1, 'default', $2, 'Test event', 'about it',
                     now() + make_interval(secs => $3), now() + make_interval(secs => $4), $5, $6,
                     $7::claim_frequency, $8, case when $9 then now() end,
                     case when now() + make_interval(secs => $3) > now() then 'Scheduled'
                          when now() + make_interval(secs => $4) <= now() then 'Ended'
                          else 'Active' end::event_phase, 3)",
        )
        .bind(id)
        .bind(format!("event-{}", id.simple()))
        .bind(self.starts_in_secs)
        .bind(self.ends_in_secs)
        .bind(self.time_zone)
        .bind(&self.condition)
        .bind(self.frequency)
        .bind(self.suspended)
        .bind(self.deleted)
        .execute(&app.db)
        .await
        .expect("insert event");
        id
    }
}

/// Inserts a reward of `event_id`; `quantity` None = unlimited.
pub async fn reward(app: &TestApp, event_id: Uuid, quantity: Option<i32>) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, payload, generation)
         values ($1, $2, 'default', $3, 'Test reward', $4, '{\"item\": \"gem\", \"count\": 5}', 1)",
    )
    .bind(id)
    .bind(event_id)
    .bind(format!("reward-{}", id.simple()))
    .bind(quantity)
    .execute(&app.db)
    .await
    .expect("insert reward");
    id
}

/// An open event without condition and one reward of `quantity`.
pub async fn open_reward(app: &TestApp, quantity: Option<i32>) -> (Uuid, Uuid) {
    let event_id = NewEvent::default().insert(app).await;
    (event_id, reward(app, event_id, quantity).await)
}

/// POST /claims/{reward}/claim with `token` and an optional key.
pub async fn claim(app: &TestApp, token: &str, reward: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&format!("/claims/{reward}/claim")))
        .bearer_auth(token);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("request sent")
}
