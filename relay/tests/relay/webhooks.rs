//! Webhook delivery against a local receiver: Standard Webhooks signatures
//! verified with the `standardwebhooks` crate, event type filtering, 500
//! retried, 429 + `Retry-After` honoured, 410 disabling the endpoint,
//! attempts exhausted, and the SSRF guard refusing 127.0.0.1 unless the
//! endpoint allows private targets.

use std::time::Duration;

use liveops_testkit::TestDb;
use relay::{
    config::TransportKind,
    metrics::Metrics,
    webhook::{self, GONE_REASON, WebhookSettings, attempt::Clients},
};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    support::{RunningRelay, insert_row, metric, pending, settings, unique, wait_until},
    webhook_receiver::{Receiver, Reply},
};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const CLAIMED: &str = "dev.liveops.reward.claimed";

async fn endpoint(db: &PgPool, url: &str, event_types: &[&str], allow_private: bool) -> Uuid {
    sqlx::query_scalar(
        "insert into webhook_endpoints (namespace, name, url, event_types, secret, allow_private)
         values ('games', $1, $2, $3, $4, $5) returning id",
    )
    .bind(unique("hook-"))
    .bind(url)
    .bind(event_types)
    .bind(SECRET)
    .bind(allow_private)
    .fetch_one(db)
    .await
    .expect("insert endpoint")
}

/// (attempts, delivered, gave up, last error) of the delivery to `endpoint`.
async fn delivery(db: &PgPool, endpoint: Uuid) -> Option<(i32, bool, bool, Option<String>)> {
    sqlx::query_as(
        "select attempts, delivered_at is not null, gave_up_at is not null, last_error
         from webhook_deliveries where endpoint_id = $1 order by outbox_id limit 1",
    )
    .bind(endpoint)
    .fetch_optional(db)
    .await
    .expect("delivery")
}

/// Whether the outbox is published (which fans it out, in the same
/// statement) and every delivery is delivered or given up.
async fn finished(db: &PgPool) -> bool {
    if pending(db).await > 0 {
        return false;
    }
    let open: i64 = sqlx::query_scalar(
        "select count(*) from webhook_deliveries where delivered_at is null and gave_up_at is null",
    )
    .fetch_one(db)
    .await
    .expect("count");
    open == 0
}

/// The webhook loop of a relay, with fast retries and three attempts.
fn start_webhooks(db: &PgPool, metrics: &Metrics) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    let settings = WebhookSettings {
        concurrency: 4,
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        retry_initial: Duration::from_millis(100),
        retry_max: Duration::from_secs(10),
        poll_interval: Duration::from_millis(20),
        retention: Duration::from_secs(3600),
    };
    let clients = Clients::new(settings.timeout).expect("HTTP clients");
    tokio::spawn(webhook::run(
        db.clone(),
        clients,
        settings,
        metrics.clone(),
        stopped,
    ));
    stop
}

#[tokio::test]
async fn deliveries_are_signed_filtered_retried_and_disabled_as_the_receiver_answers() {
    let receiver = Receiver::start(&[
        ("flaky", &[Reply::status(500), Reply::status(204)]),
        (
            "busy",
            &[
                Reply {
                    status: 429,
                    retry_after_seconds: Some(2),
                },
                Reply::status(200),
            ],
        ),
        ("gone", &[Reply::status(410)]),
        ("down", &[Reply::status(503)]),
    ])
    .await;
    let db = TestDb::new().await;
    let ok = endpoint(&db.pool, &receiver.url("ok"), &[CLAIMED], true).await;
    let all_types = endpoint(&db.pool, &receiver.url("all"), &[], true).await;
    let other_type = endpoint(
        &db.pool,
        &receiver.url("other"),
        &["dev.liveops.reward.sold_out"],
        true,
    )
    .await;
    let flaky = endpoint(&db.pool, &receiver.url("flaky"), &[CLAIMED], true).await;
    let busy = endpoint(&db.pool, &receiver.url("busy"), &[CLAIMED], true).await;
    let gone = endpoint(&db.pool, &receiver.url("gone"), &[CLAIMED], true).await;
    let down = endpoint(&db.pool, &receiver.url("down"), &[CLAIMED], true).await;
    let event_id = Uuid::new_v4();
    let message_id = insert_row(&db.pool, CLAIMED, event_id, json!({"claimId": "c-1"})).await;

    // Transport `none`: the relay marks rows published, which fans them out.
    let relay = RunningRelay::start(settings(&db.url, TransportKind::None, "", "t", "none"));
    let metrics = Metrics::new();
    let stop = start_webhooks(&db.pool, &metrics);
    wait_until(Duration::from_secs(20), "every delivery is finished", || async {
        finished(&db.pool).await
    })
    .await;

    let verifier = standardwebhooks::Webhook::new(SECRET).expect("secret");
    for path in ["ok", "all", "flaky", "busy"] {
        let last = receiver
            .received(path)
            .pop()
            .unwrap_or_else(|| panic!("{path} got nothing"));
        verifier
            .verify(&last.body, &last.headers)
            .unwrap_or_else(|error| panic!("{path}: signature does not verify: {error:?}"));
        assert_eq!(last.headers["webhook-id"], message_id.as_str());
        let event: serde_json::Value = serde_json::from_slice(&last.body).expect("JSON body");
        assert_eq!(
            (event["id"].as_str(), event["type"].as_str()),
            (Some(message_id.as_str()), Some(CLAIMED))
        );
        assert_eq!(event["data"]["eventId"], json!(event_id));
    }
    assert_eq!(delivery(&db.pool, ok).await.map(|d| (d.0, d.1)), Some((1, true)));
    assert_eq!(delivery(&db.pool, all_types).await.map(|d| d.1), Some(true));
    assert_eq!(
        delivery(&db.pool, other_type).await,
        None,
        "not subscribed to reward.claimed"
    );
    assert!(receiver.received("other").is_empty());

    // 500 then 204: retried, delivered on the second attempt, health reset.
    assert_eq!(receiver.received("flaky").len(), 2);
    assert_eq!(
        delivery(&db.pool, flaky).await.map(|d| (d.0, d.1)),
        Some((2, true))
    );
    let (failures, last_status): (i32, Option<i32>) =
        sqlx::query_as("select consecutive_failures, last_status from webhook_endpoints where id = $1")
            .bind(flaky)
            .fetch_one(&db.pool)
            .await
            .expect("health");
    assert_eq!((failures, last_status), (0, Some(204)));

    // 429 with Retry-After: 2 (far above the 100 ms backoff): waited for.
    let busy_requests = receiver.received("busy");
    assert_eq!(busy_requests.len(), 2);
    let waited = busy_requests[1].at - busy_requests[0].at;
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert_eq!(
        delivery(&db.pool, busy).await.map(|d| (d.0, d.1)),
        Some((2, true))
    );

    // 410: given up after one attempt and the endpoint disabled.
    assert_eq!(receiver.received("gone").len(), 1);
    assert_eq!(
        delivery(&db.pool, gone).await.map(|d| (d.0, d.2)),
        Some((1, true))
    );
    let reason: Option<String> =
        sqlx::query_scalar("select disabled_reason from webhook_endpoints where id = $1")
            .bind(gone)
            .fetch_one(&db.pool)
            .await
            .expect("reason");
    assert_eq!(reason.as_deref(), Some(GONE_REASON));

    // Always 503: three attempts, then given up.
    assert_eq!(receiver.received("down").len(), 3);
    assert_eq!(
        delivery(&db.pool, down).await.map(|d| (d.0, d.1, d.2)),
        Some((3, false, true))
    );

    // A disabled endpoint gets no new deliveries; the others do.
    insert_row(&db.pool, CLAIMED, event_id, json!({"claimId": "c-2"})).await;
    wait_until(Duration::from_secs(10), "the second event reaches ok", || async {
        receiver.received("ok").len() == 2
    })
    .await;
    let to_gone: i64 = sqlx::query_scalar("select count(*) from webhook_deliveries where endpoint_id = $1")
        .bind(gone)
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(to_gone, 1);
    assert_eq!(receiver.received("gone").len(), 1);
    assert_eq!(
        metric(
            &metrics,
            r#"liveops_relay_webhook_deliveries_total{outcome="gone"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            r#"liveops_relay_webhook_deliveries_total{outcome="gave_up"}"#
        ),
        1.0
    );
    let _ = stop.send(true);
    relay.stop().await;
}

#[tokio::test]
async fn the_ssrf_guard_refuses_loopback_unless_the_endpoint_allows_private_targets() {
    let receiver = Receiver::start(&[]).await;
    let db = TestDb::new().await;
    let guarded = endpoint(&db.pool, &receiver.url("guarded"), &[], false).await;
    let by_name = endpoint(&db.pool, "http://hooks.games.svc.cluster.local/x", &[], false).await;
    let allowed = endpoint(&db.pool, &receiver.url("allowed"), &[], true).await;
    insert_row(&db.pool, CLAIMED, Uuid::new_v4(), json!({"claimId": "c-1"})).await;

    let relay = RunningRelay::start(settings(&db.url, TransportKind::None, "", "t", "none"));
    let metrics = Metrics::new();
    let stop = start_webhooks(&db.pool, &metrics);
    wait_until(Duration::from_secs(20), "every delivery is finished", || async {
        finished(&db.pool).await
    })
    .await;

    assert!(receiver.received("guarded").is_empty(), "no request to 127.0.0.1");
    for refused in [guarded, by_name] {
        let (attempts, delivered, gave_up, error) = delivery(&db.pool, refused).await.expect("delivery");
        assert_eq!((attempts, delivered, gave_up), (1, false, true));
        let error = error.unwrap_or_default();
        assert!(
            error.starts_with("refused:") && error.contains("allowPrivate"),
            "{error}"
        );
    }
    assert_eq!(receiver.received("allowed").len(), 1);
    assert_eq!(delivery(&db.pool, allowed).await.map(|d| d.1), Some(true));
    assert_eq!(
        metric(
            &metrics,
            r#"liveops_relay_webhook_deliveries_total{outcome="refused"}"#
        ),
        2.0
    );
    let _ = stop.send(true);
    relay.stop().await;
}
