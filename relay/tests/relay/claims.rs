//! Real claims through the API server's claim statement: its outbox rows
//! match the committed event schemas' Rust types, the claim that takes the
//! last unit adds one `reward.sold_out`, and both reach JetStream under
//! `<prefix>.reward.<kind>.<eventId>` with sold_out after the claims.

use std::time::Duration;

use api_server::claim::{ClaimOutcome, ClaimRequest, claim_reward};
use liveops_testkit::TestDb;
use relay::{
    config::TransportKind,
    event_schema::{RewardClaimed, RewardSoldOut},
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{
    RunningRelay, jetstream, nats_url, pending, settings, stream_messages, unique, wait_until,
};

async fn user(db: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into users (id, email, password_hash, birth_date, invite_code)
         values ($1, $2, 'not-a-hash', '2000-01-01', $3)",
    )
    .bind(id)
    .bind(format!("{id}@example.com"))
    .bind(id.simple().to_string())
    .execute(db)
    .await
    .expect("insert user");
    id
}

/// An active, condition-free event with one reward of `quantity`.
async fn event_with_reward(db: &PgPool, quantity: i32) -> (Uuid, Uuid) {
    let (event_id, reward_id) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, time_zone,
                             condition, claim_frequency, phase, generation)
         values ($1, 'default', $2, 'Relay test', now() - interval '1 hour', now() + interval '1 hour',
                 'UTC', '{}', 'Once', 'Active', 1)",
    )
    .bind(event_id)
    .bind(format!("event-{}", event_id.simple()))
    .execute(db)
    .await
    .expect("insert event");
    sqlx::query(
        "insert into rewards (id, event_id, namespace, name, display_name, quantity, per_user_limit, generation, payload)
         values ($1, $2, 'default', $3, 'Gold', $4, 1, 1, '{\"item\": \"gold\"}')",
    )
    .bind(reward_id)
    .bind(event_id)
    .bind(format!("reward-{}", reward_id.simple()))
    .bind(quantity)
    .execute(db)
    .await
    .expect("insert reward");
    (event_id, reward_id)
}

async fn claim(db: &PgPool, user_id: Uuid, reward_id: Uuid) -> ClaimOutcome {
    let request = ClaimRequest {
        user_id,
        reward_id,
        key: None,
        key_ttl: Duration::from_secs(60),
    };
    claim_reward(db, request).await.expect("claim").outcome
}

#[tokio::test]
async fn claims_announce_reward_claimed_and_the_last_unit_announces_sold_out_once() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (event_id, reward_id) = event_with_reward(&db.pool, 2).await;
    let mut claim_ids = Vec::new();
    for _ in 0..3 {
        if let ClaimOutcome::Granted(granted) = claim(&db.pool, user(&db.pool).await, reward_id).await {
            claim_ids.push(granted.claim_id);
        }
    }
    assert_eq!(claim_ids.len(), 2, "two units, two grants");

    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "select event_type, payload from outbox where event_type like 'dev.liveops.reward.%' order by id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("outbox");
    let types: Vec<&str> = rows.iter().map(|(event_type, _)| event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "dev.liveops.reward.claimed",
            "dev.liveops.reward.claimed",
            "dev.liveops.reward.sold_out"
        ]
    );
    for ((_, payload), claim_id) in rows.iter().zip(&claim_ids) {
        let data: RewardClaimed =
            serde_json::from_value(payload["data"].clone()).expect("matches RewardClaimed");
        assert_eq!(
            (data.claim_id, data.event_id, data.reward_id),
            (*claim_id, event_id, reward_id)
        );
        assert_eq!(
            payload["id"],
            serde_json::json!(claim_id),
            "the event id is the claim id"
        );
    }
    let sold_out: RewardSoldOut =
        serde_json::from_value(rows[2].1["data"].clone()).expect("matches RewardSoldOut");
    assert_eq!(
        (sold_out.reward_id, sold_out.quantity, sold_out.last_claim_id),
        (reward_id, 2, claim_ids[1])
    );

    let (prefix, stream) = (unique("t"), unique("T_"));
    let relay = RunningRelay::start(settings(
        &db.url,
        TransportKind::Nats,
        &nats_url(),
        &prefix,
        &stream,
    ));
    wait_until(Duration::from_secs(15), "the rows are published", || async {
        pending(&db.pool).await == 0
    })
    .await;
    let subjects: Vec<String> = stream_messages(&js, &stream)
        .await
        .iter()
        .map(|m| m.subject.to_string())
        .collect();
    assert_eq!(
        subjects,
        [
            // the event row's insert announced its first phase (migration 0031)
            format!("{prefix}.event.phase_changed.{event_id}"),
            format!("{prefix}.reward.claimed.{event_id}"),
            format!("{prefix}.reward.claimed.{event_id}"),
            format!("{prefix}.reward.sold_out.{event_id}"),
        ]
    );
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}
