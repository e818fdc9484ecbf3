//! Two relay processes on one database: the one holding the advisory lock
//! publishes; after it is killed with SIGKILL, the standby takes over
//! within seconds and nothing is lost.

use std::{process::Stdio, time::Duration};

use liveops_testkit::TestDb;
use serde_json::json;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::support::{insert_row, jetstream, nats_url, pending, stream_count, unique, wait_until};

fn spawn_relay(database_url: &str, prefix: &str, stream: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_relay"))
        .env("DATABASE_URL", database_url)
        .env("RELAY_TRANSPORT", "nats")
        .env("NATS_URL", nats_url())
        .env("NATS_STREAM", stream)
        .env("RELAY_SUBJECT_PREFIX", prefix)
        .env("RELAY_LISTEN_ADDR", "127.0.0.1:0")
        .env("RELAY_STANDBY_POLL_MS", "200")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the relay binary")
}

async fn lock_connections(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where application_name = 'liveops-relay' and datname = current_database()",
    )
    .fetch_one(db)
    .await
    .unwrap_or(0)
}

#[tokio::test]
async fn the_standby_takes_over_within_seconds_when_the_leader_is_killed() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    let mut leader = spawn_relay(&db.url, &prefix, &stream);
    insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        Uuid::new_v4(),
        json!({"n": 0}),
    )
    .await;
    wait_until(Duration::from_secs(30), "the first relay publishes", || async {
        pending(&db.pool).await == 0
    })
    .await;

    let mut standby = spawn_relay(&db.url, &prefix, &stream);
    wait_until(
        Duration::from_secs(30),
        "the standby waits for the lock",
        || async { lock_connections(&db.pool).await == 2 },
    )
    .await;
    insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        Uuid::new_v4(),
        json!({"n": 1}),
    )
    .await;
    wait_until(Duration::from_secs(10), "the leader publishes", || async {
        pending(&db.pool).await == 0
    })
    .await;

    leader.start_kill().expect("SIGKILL the leader");
    leader.wait().await.expect("the leader is gone");
    let killed_at = tokio::time::Instant::now();
    for n in 2..12 {
        insert_row(
            &db.pool,
            "dev.liveops.reward.claimed",
            Uuid::new_v4(),
            json!({"n": n}),
        )
        .await;
    }
    wait_until(
        Duration::from_secs(10),
        "the standby publishes the rest",
        || async { pending(&db.pool).await == 0 },
    )
    .await;
    assert!(killed_at.elapsed() < Duration::from_secs(10));
    assert!(
        standby.try_wait().expect("status").is_none(),
        "the standby still runs"
    );
    assert_eq!(stream_count(&js, &stream).await, 12);
    standby.start_kill().expect("stop the standby");
    let _ = standby.wait().await;
    let _ = js.delete_stream(&stream).await;
}
