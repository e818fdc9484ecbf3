//! Rows for requirement tests: counters, their values, rewards with
//! `requires`, and the check that progress and claim agree.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    challenge::{RewardProgress, user_progress},
    claim::tests::fixtures::{claim, refusal},
};

/// Inserts a Sum counter `name` of the event (namespace `default`).
pub async fn counter(db: &PgPool, event_id: Uuid, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into counters (id, namespace, name, event_id, display_name, aggregation, generation)
         values ($1, 'default', $2, $3, $2, 'Sum', 1)",
        id,
        name,
        event_id,
    )
    .execute(db)
    .await
    .expect("insert counter");
    id
}

/// Sets the user's value of a counter in `period_key` ('event' or a period).
pub async fn set_value(db: &PgPool, counter_id: Uuid, user_id: Uuid, period_key: &str, value: i64) {
    sqlx::query!(
        "insert into counter_values (counter_id, user_id, period_key, value) values ($1, $2, $3, $4)
         on conflict (counter_id, user_id, period_key) do update set value = excluded.value",
        counter_id,
        user_id,
        period_key,
        value,
    )
    .execute(db)
    .await
    .expect("set counter value");
}

/// The current period key of a Daily event in UTC with midnight resets.
pub async fn today_key(db: &PgPool) -> String {
    sqlx::query_scalar!(r#"select liveops_period_key('Daily', 'UTC', '00:00', now()) as "key!""#)
        .fetch_one(db)
        .await
        .expect("period key")
}

/// Inserts reward `name` of the event requiring `requires` (null: none).
pub async fn reward_requiring(
    db: &PgPool,
    event_id: Uuid,
    name: &str,
    quantity: Option<i32>,
    requires: Value,
) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, requires, generation)
         values ($1, $2, 'default', $3, $3, $4, nullif($5::jsonb, 'null'::jsonb), 1)",
        id,
        event_id,
        name,
        quantity,
        requires,
    )
    .execute(db)
    .await
    .expect("insert reward");
    id
}

/// The progress view's entry for one reward of one event.
pub async fn progress_of(db: &PgPool, user_id: Uuid, event_id: Uuid, reward_id: Uuid) -> RewardProgress {
    let progress = user_progress(db, user_id, Some(event_id))
        .await
        .expect("progress");
    progress
        .events
        .into_iter()
        .flat_map(|event| event.rewards)
        .find(|reward| reward.reward_id == reward_id)
        .expect("the reward is in its event's progress")
}

/// Reads progress, then claims; asserts that progress said claimable
/// exactly when the claim was granted, with the refusal's code as reason.
/// Returns that code (None: granted).
pub async fn progress_then_claim(
    db: &PgPool,
    user_id: Uuid,
    event_id: Uuid,
    reward_id: Uuid,
) -> Option<&'static str> {
    let progress = progress_of(db, user_id, event_id, reward_id).await;
    let outcome = claim(db, user_id, reward_id).await.expect("claim");
    let code = refusal(&outcome).map(|refusal| refusal.code());
    assert_eq!(
        (progress.claimable, progress.reason.as_deref()),
        (code.is_none(), code),
        "progress vs claim of {}: {progress:?}",
        progress.name
    );
    code
}
