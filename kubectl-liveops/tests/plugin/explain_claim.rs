//! `explain-claim` through the binary: users by email, nickname or id,
//! rewards by namespace/name, text and JSON, exit codes, and each verdict
//! checked against the real claim made right after it.

use std::time::Duration;

use api_server::claim::{ClaimOutcome, ClaimRequest, claim_reward};
use liveops_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::catalogue::{Projection, plugin, reward_id, stdout, user};

/// The claim's answer as explain-claim names it.
async fn claim_code(db: &PgPool, user_id: Uuid, reward: &str) -> &'static str {
    let request = ClaimRequest {
        user_id,
        reward_id: reward_id(db, reward).await,
        key: None,
        key_ttl: Duration::from_secs(60),
    };
    match claim_reward(db, request).await.expect("claim").outcome {
        ClaimOutcome::Granted(_) => "GRANTED",
        ClaimOutcome::Refused(refusal) => refusal.code(),
    }
}

#[tokio::test]
async fn explain_claim_answers_what_the_claim_then_does() {
    let db = TestDb::new().await;
    let projection = Projection::start(&db.pool).await;
    let user_id = user(&db.pool, "Alice@Example.com", "alice").await;

    let granted = plugin(&[
        "explain-claim",
        "alice@example.com",
        "games/open-doors-gold",
        "--database-url",
        &db.url,
    ])
    .await;
    let report = stdout(&granted);
    assert_eq!(granted.status.code(), Some(0), "{report}");
    assert!(report.contains("reward:      games/open-doors-gold"), "{report}");
    assert!(
        report.contains("stock:       0 claimed / 2 quantity / 2 remaining: ok"),
        "{report}"
    );
    assert!(report.contains("verdict:     GRANTED"), "{report}");
    assert_eq!(claim_code(&db.pool, user_id, "open-doors-gold").await, "GRANTED");

    let again = plugin(&[
        "explain-claim",
        "alice",
        "games/open-doors-gold",
        "--database-url",
        &db.url,
    ])
    .await;
    let report = stdout(&again);
    assert_eq!(again.status.code(), Some(1), "{report}");
    assert!(
        report.contains("per user:    1 of perUserLimit 1 this period: REACHED"),
        "{report}"
    );
    assert!(
        report.contains("verdict:     REFUSED ALREADY_CLAIMED"),
        "{report}"
    );
    assert_eq!(
        claim_code(&db.pool, user_id, "open-doors-gold").await,
        "ALREADY_CLAIMED"
    );

    let id = user_id.to_string();
    for (reward, code, condition) in [
        ("streak-week-gem", "CONDITION_NOT_MET", "notMet"),
        ("future-fair-hat", "EVENT_NOT_ACTIVE", "none"),
        ("old-sale-coat", "EVENT_NOT_ACTIVE", "none"),
    ] {
        let wanted = format!("games/{reward}");
        let output = plugin(&[
            "explain-claim",
            &id,
            &wanted,
            "-o",
            "json",
            "--database-url",
            &db.url,
        ])
        .await;
        assert_eq!(output.status.code(), Some(1), "{reward}");
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON explanation");
        assert_eq!(json["verdict"]["code"], code, "{reward}: {json}");
        assert_eq!(json["condition"], condition, "{reward}");
        assert_eq!(json["user"]["email"], "Alice@Example.com");
        assert_eq!(claim_code(&db.pool, user_id, reward).await, code, "{reward}");
    }
    projection.stop().await;
}

#[tokio::test]
async fn unknown_rewards_are_refused_and_unknown_users_are_usage_errors() {
    let db = TestDb::new().await;
    let projection = Projection::start(&db.pool).await;
    user(&db.pool, "bob@example.com", "bob").await;

    let missing = plugin(&[
        "explain-claim",
        "bob",
        "games/no-such-reward",
        "--database-url",
        &db.url,
    ])
    .await;
    let report = stdout(&missing);
    assert_eq!(missing.status.code(), Some(1), "{report}");
    assert!(
        report.contains("reward:      games/no-such-reward: not found"),
        "{report}"
    );
    assert!(report.contains("REFUSED REWARD_NOT_FOUND"), "{report}");

    let nobody = plugin(&[
        "explain-claim",
        "carol@example.com",
        "games/open-doors-gold",
        "--database-url",
        &db.url,
    ])
    .await;
    assert_eq!(nobody.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no user"));
    projection.stop().await;
}
