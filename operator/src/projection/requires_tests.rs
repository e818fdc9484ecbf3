//! `Reward.spec.requires` lands in `rewards.requires` as the claim statement
//! reads it, through the one-row upsert (cluster mode) and the batch
//! (manifests mode), and an edit that drops it stores null.

use liveops_domain::crd::{EventPhase, Requirement, RewardSpec};
use liveops_testkit::TestDb;
use serde_json::json;
use sqlx::PgPool;

use super::{
    tests::{event_spec, put_event, reward_spec},
    *,
};

fn requiring(requires: Option<serde_json::Value>) -> RewardSpec {
    RewardSpec {
        requires: requires.map(|value| serde_json::from_value::<Requirement>(value).expect("a requirement")),
        ..reward_spec(None)
    }
}

async fn stored(db: &PgPool) -> Option<serde_json::Value> {
    sqlx::query_scalar!("select requires from rewards where namespace = 'default' and name = 'gold'")
        .fetch_one(db)
        .await
        .expect("reward row")
}

#[tokio::test]
async fn requires_is_projected_by_both_paths_and_cleared_when_dropped() {
    let db = TestDb::new().await;
    put_event(&db.pool, &event_spec(), EventPhase::Active, 1).await;
    let requires = json!({"anyOf": [{"counter": {"name": "wins", "atLeast": 3, "window": "Period"}},
                                    {"claimed": {"reward": "silver"}}]});
    let row = |spec, generation| RewardRow {
        namespace: "default",
        name: "gold",
        spec,
        generation,
    };

    let spec = requiring(Some(requires.clone()));
    upsert_reward(&db.pool, row(&spec, 1))
        .await
        .expect("one-row upsert");
    assert_eq!(stored(&db.pool).await, Some(requires.clone()));
    let dropped = requiring(None);
    upsert_reward(&db.pool, row(&dropped, 2))
        .await
        .expect("one-row upsert");
    assert_eq!(stored(&db.pool).await, None);

    upsert_rewards(&db.pool, &[row(&spec, 3)]).await.expect("batch");
    // the window default is written out, as the claim statement expects
    let with_default = json!({"allOf": [{"counter": {"name": "wins", "atLeast": 1}}]});
    let spec = requiring(Some(with_default));
    upsert_rewards(&db.pool, &[row(&spec, 4)]).await.expect("batch");
    assert_eq!(
        stored(&db.pool).await,
        Some(json!({"allOf": [{"counter": {"name": "wins", "atLeast": 1, "window": "Event"}}]}))
    );
    upsert_rewards(&db.pool, &[row(&dropped, 5)])
        .await
        .expect("batch");
    assert_eq!(stored(&db.pool).await, None);
}
