//! NATS faults: the broker unreachable for a while (backlog drains, nothing
//! lost, readiness stays up), a row the stream keeps refusing (dead letters
//! after RELAY_MAX_ATTEMPTS while the rest flow), and retention.

use std::time::Duration;

use async_nats::jetstream::stream;
use liveops_testkit::TestDb;
use relay::{config::TransportKind, health};
use serde_json::json;
use uuid::Uuid;

use liveops_testkit::tcp_proxy::TcpProxy;

use crate::support::{
    RunningRelay, host_port, insert_row, jetstream, metric, nats_url, pending, settings, stream_count,
    unique, wait_until,
};

#[tokio::test]
async fn a_broker_outage_loses_nothing_and_the_backlog_drains_when_it_is_back() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    let proxy = TcpProxy::in_front_of(&host_port(&nats_url())).await;
    let url = format!("nats://{}", proxy.address);
    let relay = RunningRelay::start(settings(&db.url, TransportKind::Nats, &url, &prefix, &stream));
    let probes = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let readyz = format!("http://{}/readyz", probes.local_addr().expect("address"));
    let state = health::HealthState {
        db: db.pool.clone(),
        metrics: relay.metrics.clone(),
    };
    tokio::spawn(health::serve(probes, state, std::future::pending()));

    for n in 0..5 {
        insert_row(
            &db.pool,
            "dev.liveops.reward.claimed",
            Uuid::new_v4(),
            json!({"n": n}),
        )
        .await;
    }
    wait_until(
        Duration::from_secs(15),
        "the first rows are published",
        || async { pending(&db.pool).await == 0 },
    )
    .await;

    proxy.cut();
    for n in 5..30 {
        insert_row(
            &db.pool,
            "dev.liveops.reward.claimed",
            Uuid::new_v4(),
            json!({"n": n}),
        )
        .await;
    }
    // Several failed reconnections prove the outage lasted a while.
    let errors = || metric(&relay.metrics, r#"liveops_relay_errors_total{class="connect"}"#);
    wait_until(
        Duration::from_secs(30),
        "the relay retried connecting 4 times",
        || async { errors() >= 4.0 },
    )
    .await;
    assert_eq!(
        pending(&db.pool).await,
        25,
        "nothing is marked while the broker is away"
    );
    let ready = reqwest::get(&readyz).await.expect("readyz answers");
    assert_eq!(ready.status(), 200, "readiness stays up during a broker outage");
    assert_eq!(metric(&relay.metrics, "liveops_relay_broker_connected"), 0.0);
    assert_eq!(
        metric(&relay.metrics, "liveops_database_up"),
        1.0,
        "the database is still up"
    );

    proxy.restore().await;
    wait_until(Duration::from_secs(20), "the backlog drains", || async {
        pending(&db.pool).await == 0
    })
    .await;
    assert_eq!(
        stream_count(&js, &stream).await,
        30,
        "every event is in the stream exactly once"
    );
    let dead: i64 = sqlx::query_scalar("select count(*) from outbox_dead_letters")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(dead, 0, "an outage never dead-letters");
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}

#[tokio::test]
async fn a_row_the_stream_keeps_refusing_goes_to_dead_letters_and_the_rest_flow() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    // The stream's owner limits message size; the relay keeps that setting.
    js.create_stream(stream::Config {
        name: stream.clone(),
        subjects: vec![format!("{prefix}.>")],
        max_message_size: 1024,
        ..Default::default()
    })
    .await
    .expect("create the limited stream");
    let before = insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        Uuid::new_v4(),
        json!({"n": 1}),
    )
    .await;
    let poison = insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        Uuid::new_v4(),
        json!({"blob": "x".repeat(4000)}),
    )
    .await;
    let after = insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        Uuid::new_v4(),
        json!({"n": 2}),
    )
    .await;
    // Kept after publishing, so the published rows can be read back.
    let mut relay_settings = settings(&db.url, TransportKind::Nats, &nats_url(), &prefix, &stream);
    relay_settings.retention = Duration::from_secs(3600);
    let relay = RunningRelay::start(relay_settings);

    wait_until(
        Duration::from_secs(20),
        "the poison row is dead-lettered",
        || async {
            sqlx::query_scalar::<_, i64>("select count(*) from outbox_dead_letters")
                .fetch_one(&db.pool)
                .await
                .unwrap_or(0)
                == 1
        },
    )
    .await;
    let (payload, attempts, last_error): (serde_json::Value, i32, String) =
        sqlx::query_as("select payload, attempts, last_error from outbox_dead_letters")
            .fetch_one(&db.pool)
            .await
            .expect("dead letter");
    assert_eq!(payload["id"], json!(poison));
    assert_eq!(attempts, 3, "dead-lettered after RELAY_MAX_ATTEMPTS refusals");
    assert!(!last_error.is_empty());
    assert_eq!(pending(&db.pool).await, 0);
    let published: Vec<String> =
        sqlx::query_scalar("select payload->>'id' from outbox where published_at is not null order by id")
            .fetch_all(&db.pool)
            .await
            .expect("published rows");
    assert_eq!(published, vec![before, after]);
    assert_eq!(stream_count(&js, &stream).await, 2);
    assert_eq!(metric(&relay.metrics, "liveops_relay_dead_lettered_total"), 1.0);
    assert_eq!(
        metric(&relay.metrics, r#"liveops_relay_errors_total{class="refused"}"#),
        3.0
    );
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}

#[tokio::test]
async fn published_rows_past_retention_are_deleted_and_malformed_rows_dead_lettered() {
    let db = TestDb::new().await;
    insert_row(&db.pool, "dev.liveops.reward.claimed", Uuid::new_v4(), json!({})).await;
    sqlx::query("insert into outbox (event_type, payload) values ('dev.liveops.reward.claimed', '{\"specversion\": \"1.0\"}')")
        .execute(&db.pool)
        .await
        .expect("malformed row");
    let mut relay_settings = settings(&db.url, TransportKind::None, "", "liveops", "unused");
    relay_settings.retention = Duration::ZERO;
    let relay = RunningRelay::start(relay_settings);
    wait_until(
        Duration::from_secs(15),
        "the published row is deleted",
        || async {
            sqlx::query_scalar::<_, i64>("select count(*) from outbox")
                .fetch_one(&db.pool)
                .await
                .unwrap_or(-1)
                == 0
        },
    )
    .await;
    let last_error: String = sqlx::query_scalar("select last_error from outbox_dead_letters")
        .fetch_one(&db.pool)
        .await
        .expect("the malformed row is a dead letter");
    assert!(last_error.contains("malformed"), "{last_error}");
    assert_eq!(
        metric(&relay.metrics, r#"liveops_relay_errors_total{class="malformed"}"#),
        1.0
    );
    relay.stop().await;
}
