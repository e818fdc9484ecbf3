//! What happens to a row once the broker acknowledged it: with no
//! retention (RELAY_RETENTION_SECONDS=0) it is deleted at once and still
//! fanned out to the webhook endpoints; with retention it is marked
//! published, kept, and deleted by the cleanup once past it.

use std::time::Duration;

use liveops_testkit::TestDb;
use relay::config::TransportKind;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{RunningRelay, insert_row, settings, wait_until};

const CLAIMED: &str = "dev.liveops.reward.claimed";

async fn outbox_rows(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from outbox")
        .fetch_one(db)
        .await
        .unwrap_or(-1)
}

#[tokio::test]
async fn with_no_retention_acknowledged_rows_are_deleted_and_still_fanned_out_to_webhooks() {
    let db = TestDb::new().await;
    let endpoint: Uuid = sqlx::query_scalar(
        "insert into webhook_endpoints (namespace, name, url, secret)
         values ('games', 'hook', 'https://receiver.example/hook', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
         returning id",
    )
    .fetch_one(&db.pool)
    .await
    .expect("endpoint");
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(insert_row(&db.pool, CLAIMED, Uuid::new_v4(), json!({})).await);
    }
    // The default retention: none.
    let relay = RunningRelay::start(settings(&db.url, TransportKind::None, "", "liveops", "unused"));
    wait_until(Duration::from_secs(15), "the outbox is emptied", || async {
        outbox_rows(&db.pool).await == 0
    })
    .await;
    relay.stop().await;
    let delivered: Vec<String> = sqlx::query_scalar(
        "select message_id from webhook_deliveries where endpoint_id = $1 order by outbox_id",
    )
    .bind(endpoint)
    .fetch_all(&db.pool)
    .await
    .expect("deliveries");
    assert_eq!(delivered, ids, "every deleted row is fanned out, in order");
    let whole: Vec<Option<String>> = sqlx::query_scalar(
        "select payload->>'id' from webhook_deliveries where endpoint_id = $1 order by outbox_id",
    )
    .bind(endpoint)
    .fetch_all(&db.pool)
    .await
    .expect("delivered payloads");
    assert_eq!(
        whole,
        ids.iter().cloned().map(Some).collect::<Vec<_>>(),
        "each delivery carries its row's whole payload"
    );
    let dead: i64 = sqlx::query_scalar("select count(*) from outbox_dead_letters")
        .fetch_one(&db.pool)
        .await
        .expect("dead letters");
    assert_eq!(dead, 0);
}

#[tokio::test]
async fn with_retention_rows_are_marked_kept_and_deleted_once_past_it() {
    let db = TestDb::new().await;
    let expired = insert_row(&db.pool, CLAIMED, Uuid::new_v4(), json!({})).await;
    sqlx::query("update outbox set published_at = now() - interval '2 hours'")
        .execute(&db.pool)
        .await
        .expect("published two hours ago");
    let fresh = insert_row(&db.pool, CLAIMED, Uuid::new_v4(), json!({})).await;
    // An hour of retention: the first row is past it, the second is not.
    let mut relay_settings = settings(&db.url, TransportKind::None, "", "liveops", "unused");
    relay_settings.retention = Duration::from_secs(3600);
    let relay = RunningRelay::start(relay_settings);
    let kept = || async {
        sqlx::query_scalar::<_, String>(
            "select payload->>'id' from outbox where published_at is not null order by id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap_or_default()
    };
    wait_until(
        Duration::from_secs(15),
        "the fresh row is marked and the expired one deleted",
        || async { kept().await == vec![fresh.clone()] },
    )
    .await;
    relay.stop().await;
    assert_ne!(expired, fresh);
    assert_eq!(
        outbox_rows(&db.pool).await,
        1,
        "only the row within retention is kept"
    );
}

#[tokio::test]
async fn rows_are_deleted_without_deliveries_when_no_endpoint_is_live() {
    let db = TestDb::new().await;
    sqlx::query(
        "insert into webhook_endpoints (namespace, name, url, secret, suspended)
         values ('games', 'paused', 'https://receiver.example/hook', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', true)",
    )
    .execute(&db.pool)
    .await
    .expect("suspended endpoint");
    for _ in 0..3 {
        insert_row(&db.pool, CLAIMED, Uuid::new_v4(), json!({})).await;
    }
    let relay = RunningRelay::start(settings(&db.url, TransportKind::None, "", "liveops", "unused"));
    wait_until(Duration::from_secs(15), "the outbox is emptied", || async {
        outbox_rows(&db.pool).await == 0
    })
    .await;
    relay.stop().await;
    let deliveries: i64 = sqlx::query_scalar("select count(*) from webhook_deliveries")
        .fetch_one(&db.pool)
        .await
        .expect("deliveries");
    assert_eq!(deliveries, 0, "a suspended endpoint gets nothing");
}
