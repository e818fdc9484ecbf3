//! Rows for claim tests: users, events placed relative to the database's
//! clock, rewards and logins.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::claim::{ClaimAnswer, ClaimOutcome, ClaimRefusal, ClaimRequest, claim_reward};

/// Inserts a user with a unique email and invite code.
pub async fn user(db: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into users (id, email, password_hash, birth_date, invite_code)
         values ($1, $2, 'not-a-hash', '2000-01-01', $3)",
        id,
        format!("{id}@example.com"),
        id.simple().to_string(),
    )
    .execute(db)
    .await
    .expect("insert user");
    id
}

/// An event to insert; the window is given in seconds relative to the
/// database's `now()`, so tests never depend on the test machine's clock.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub starts_in_secs: f64,
    pub ends_in_secs: f64,
    pub time_zone: &'static str,
    pub condition: serde_json::Value,
    pub frequency: &'static str,
    pub suspended: bool,
    pub deleted: bool,
    pub phase: &'static str,
    pub max_claims: Option<i32>,
    pub max_rewards_per_user: Option<i32>,
}

impl Default for EventRow {
    fn default() -> Self {
        Self {
            starts_in_secs: -3600.0,
            ends_in_secs: 3600.0,
            time_zone: "UTC",
            condition: serde_json::json!({}),
            frequency: "Once",
            suspended: false,
            deleted: false,
            phase: "Active",
            max_claims: None,
            max_rewards_per_user: None,
        }
    }
}

impl EventRow {
    /// Inserts the event, returning its id.
    pub async fn insert(&self, db: &PgPool) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into events (id, namespace, name, display_name, starts_at, ends_at, time_zone,
                                 condition, claim_frequency, suspended, deleted_at, phase,
                                 max_claims, max_rewards_per_user, generation)
             values ($1, 'default', $2, 'Test event',
                     now() + make_interval(secs => $3), now() + make_interval(secs => $4), $5,
                     $6, $7::claim_frequency, $8, case when $9 then now() end, $10::event_phase, $11, $12, 1)",
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
        .bind(self.phase)
        .bind(self.max_claims)
        .bind(self.max_rewards_per_user)
        .execute(db)
        .await
        .expect("insert event");
        id
    }
}

/// Inserts a reward of `event_id` with `quantity` (None = unlimited).
pub async fn reward(db: &PgPool, event_id: Uuid, quantity: Option<i32>, per_user_limit: i32) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, per_user_limit, generation)
         values ($1, $2, 'default', $3, 'Test reward', $4, $5, 1)",
        id,
        event_id,
        format!("reward-{}", id.simple()),
        quantity,
        per_user_limit,
    )
    .execute(db)
    .await
    .expect("insert reward");
    id
}

/// Records a login of `user_id` at `at`.
pub async fn login(db: &PgPool, user_id: Uuid, at: DateTime<Utc>) {
    sqlx::query!(
        "insert into user_logins (user_id, logged_in_at) values ($1, $2)",
        user_id,
        at
    )
    .execute(db)
    .await
    .expect("insert login");
}

/// Parses an RFC 3339 instant.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339 instant")
        .with_timezone(&Utc)
}

/// Status and reason of every claim of `user_id`, oldest first.
pub async fn claims_of(db: &PgPool, user_id: Uuid) -> Vec<(String, Option<String>)> {
    sqlx::query!(
        r#"select status::text as "status!", reason from claims where user_id = $1 order by created_at, id"#,
        user_id
    )
    .fetch_all(db)
    .await
    .expect("read claims")
    .into_iter()
    .map(|row| (row.status, row.reason))
    .collect()
}

/// Claims `reward_id` for `user_id` without an Idempotency-Key.
pub async fn claim(db: &PgPool, user_id: Uuid, reward_id: Uuid) -> sqlx::Result<ClaimOutcome> {
    Ok(claim_with_key(db, user_id, reward_id, None).await?.outcome)
}

/// Claims `reward_id` for `user_id` with `key` (24 h lifetime).
pub async fn claim_with_key(
    db: &PgPool,
    user_id: Uuid,
    reward_id: Uuid,
    key: Option<&str>,
) -> sqlx::Result<ClaimAnswer> {
    let request = ClaimRequest {
        user_id,
        reward_id,
        key,
        key_ttl: Duration::from_secs(24 * 3600),
    };
    claim_reward(db, request).await
}

/// The refusal of `outcome`, if it is one.
pub fn refusal(outcome: &ClaimOutcome) -> Option<ClaimRefusal> {
    match outcome {
        ClaimOutcome::Refused(refusal) => Some(*refusal),
        ClaimOutcome::Granted(_) => None,
    }
}
