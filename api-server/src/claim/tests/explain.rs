//! `explain_claim` answers what a claim would: for the grant and each
//! refusal, the explanation is taken first and the real claim then made on
//! the same rows, and the two must agree.

use chrono::{Duration, Utc};
use liveops_testkit::TestDb;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::{EventRow, claim, login, refusal, reward, user};
use crate::claim::{ClaimRefusal, ConditionCheck, InactiveReason, explain_claim};

/// Explains, then claims; asserts both give the same answer and returns it.
async fn explained_then_claimed(db: &PgPool, user_id: Uuid, reward_id: Uuid) -> Option<ClaimRefusal> {
    let explained = explain_claim(db, user_id, reward_id).await.expect("explain");
    let outcome = claim(db, user_id, reward_id).await.expect("claim");
    assert_eq!(
        explained.refusal,
        refusal(&outcome),
        "explanation vs claim: {explained:?}"
    );
    explained.refusal
}

async fn one_reward(db: &PgPool, event: EventRow, quantity: Option<i32>, per_user_limit: i32) -> Uuid {
    let event_id = event.insert(db).await;
    reward(db, event_id, quantity, per_user_limit).await
}

#[tokio::test]
async fn a_claim_that_would_be_granted_is_explained_as_granted() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let reward_id = one_reward(&db.pool, EventRow::default(), Some(5), 1).await;
    let explanation = explain_claim(&db.pool, user_id, reward_id)
        .await
        .expect("explain");
    let facts = explanation.facts.as_ref().expect("reward found");
    assert_eq!(
        (facts.quantity, facts.claimed, facts.claimed_by_user),
        (Some(5), 0, 0)
    );
    assert_eq!(explanation.condition, ConditionCheck::None);
    assert_eq!(explained_then_claimed(&db.pool, user_id, reward_id).await, None);
}

#[tokio::test]
async fn an_unknown_or_deleted_reward_is_not_found_by_both() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let unknown = Uuid::new_v4();
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, unknown).await,
        Some(ClaimRefusal::RewardNotFound)
    );
    let deleted = one_reward(&db.pool, EventRow::default(), None, 1).await;
    sqlx::query!("update rewards set deleted_at = now() where id = $1", deleted)
        .execute(&db.pool)
        .await
        .expect("delete reward");
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, deleted).await,
        Some(ClaimRefusal::RewardNotFound)
    );
}

#[tokio::test]
async fn each_reason_an_event_is_not_active_is_explained_as_the_claim_refuses() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let cases = [
        (
            EventRow {
                starts_in_secs: 3600.0,
                ends_in_secs: 7200.0,
                phase: "Scheduled",
                ..EventRow::default()
            },
            InactiveReason::Scheduled,
        ),
        (
            EventRow {
                starts_in_secs: -7200.0,
                ends_in_secs: -3600.0,
                phase: "Ended",
                ..EventRow::default()
            },
            InactiveReason::Ended,
        ),
        (
            EventRow {
                suspended: true,
                phase: "Suspended",
                ..EventRow::default()
            },
            InactiveReason::Suspended,
        ),
        (
            EventRow {
                deleted: true,
                ..EventRow::default()
            },
            InactiveReason::Deleted,
        ),
        (
            EventRow {
                phase: "Invalid",
                ..EventRow::default()
            },
            InactiveReason::Invalid,
        ),
    ];
    for (event, reason) in cases {
        let reward_id = one_reward(&db.pool, event, None, 1).await;
        assert_eq!(
            explained_then_claimed(&db.pool, user_id, reward_id).await,
            Some(ClaimRefusal::EventNotActive(Some(reason))),
            "{reason:?}"
        );
    }
}

#[tokio::test]
async fn limits_already_reached_are_explained_as_already_claimed() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let reward_id = one_reward(&db.pool, EventRow::default(), None, 1).await;
    assert_eq!(explained_then_claimed(&db.pool, user_id, reward_id).await, None);
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, reward_id).await,
        Some(ClaimRefusal::AlreadyClaimed { event_limit: false })
    );
    let explanation = explain_claim(&db.pool, user_id, reward_id)
        .await
        .expect("explain");
    assert_eq!(explanation.facts.expect("found").claimed_by_user, 1);

    let event_id = EventRow {
        max_rewards_per_user: Some(1),
        ..EventRow::default()
    }
    .insert(&db.pool)
    .await;
    let (first, second) = (
        reward(&db.pool, event_id, None, 1).await,
        reward(&db.pool, event_id, None, 1).await,
    );
    assert_eq!(explained_then_claimed(&db.pool, user_id, first).await, None);
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, second).await,
        Some(ClaimRefusal::AlreadyClaimed { event_limit: true })
    );
}

#[tokio::test]
async fn no_stock_and_a_reached_event_cap_are_explained_as_sold_out() {
    let db = TestDb::new().await;
    let (user_id, other) = (user(&db.pool).await, user(&db.pool).await);
    let empty = one_reward(&db.pool, EventRow::default(), Some(0), 1).await;
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, empty).await,
        Some(ClaimRefusal::SoldOut { event_cap: false })
    );
    let capped = one_reward(
        &db.pool,
        EventRow {
            max_claims: Some(1),
            ..EventRow::default()
        },
        None,
        1,
    )
    .await;
    assert_eq!(explained_then_claimed(&db.pool, other, capped).await, None);
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, capped).await,
        Some(ClaimRefusal::SoldOut { event_cap: true })
    );
}

#[tokio::test]
async fn the_condition_is_explained_as_the_claim_judges_it() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let streak = EventRow {
        starts_in_secs: -3.0 * 86_400.0,
        ends_in_secs: 86_400.0,
        condition: json!({"loginStreak": {"days": 2}}),
        ..EventRow::default()
    };
    let reward_id = one_reward(&db.pool, streak, None, 1).await;
    let explanation = explain_claim(&db.pool, user_id, reward_id)
        .await
        .expect("explain");
    assert_eq!(explanation.condition, ConditionCheck::NotMet);
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, reward_id).await,
        Some(ClaimRefusal::ConditionNotMet)
    );
    // Logins on the two days before today (UTC) make a streak of two.
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc();
    for days_ago in [1, 2] {
        login(&db.pool, user_id, today - Duration::days(days_ago)).await;
    }
    let explanation = explain_claim(&db.pool, user_id, reward_id)
        .await
        .expect("explain");
    assert_eq!(explanation.condition, ConditionCheck::Met);
    assert_eq!(explained_then_claimed(&db.pool, user_id, reward_id).await, None);
}

#[tokio::test]
async fn a_condition_that_does_not_parse_is_explained_as_invalid() {
    let db = TestDb::new().await;
    let user_id = user(&db.pool).await;
    let broken = EventRow {
        condition: json!({"loginStreak": {"days": 1}, "loginDays": {"days": 1}}),
        ..EventRow::default()
    };
    let reward_id = one_reward(&db.pool, broken, None, 1).await;
    assert_eq!(
        explained_then_claimed(&db.pool, user_id, reward_id).await,
        Some(ClaimRefusal::EventNotActive(Some(InactiveReason::Invalid)))
    );
}
