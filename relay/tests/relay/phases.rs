//! `dev.liveops.event.phase_changed`: the trigger of migration 0031 writes
//! one outbox row per phase change, whichever statement the operator uses
//! (a single-row update, a batched `where id = any(...)`, the projection's
//! upsert), nothing for a write that keeps the phase, and the relay puts
//! them on each Event's subject in the order they happened.

use std::{collections::HashMap, time::Duration};

use liveops_domain::crd::EventPhase;
use liveops_testkit::TestDb;
use relay::{config::TransportKind, event_schema::PhaseChanged};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{
    RunningRelay, jetstream, nats_url, pending, settings, stream_messages, unique, wait_until,
};

/// Inserts a Scheduled event row as the operator's projection does.
async fn scheduled_event(db: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into events (id, namespace, name, display_name, starts_at, ends_at, phase, generation)
         values ($1, 'games', $2, 'Phase test', now() + interval '1 hour', now() + interval '2 hours',
                 'Scheduled', 3)",
    )
    .bind(id)
    .bind(format!("event-{}", id.simple()))
    .execute(db)
    .await
    .expect("insert event");
    id
}

async fn set_phase(db: &PgPool, id: Uuid, phase: &str) {
    sqlx::query("update events set phase = $2::event_phase, updated_at = now() where id = $1")
        .bind(id)
        .bind(phase)
        .execute(db)
        .await
        .expect("update phase");
}

async fn phase_rows(db: &PgPool) -> Vec<PhaseChanged> {
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "select payload from outbox where event_type = 'dev.liveops.event.phase_changed' order by id",
    )
    .fetch_all(db)
    .await
    .expect("outbox");
    rows.into_iter()
        .map(|payload| serde_json::from_value(payload["data"].clone()).expect("matches PhaseChanged"))
        .collect()
}

#[tokio::test]
async fn every_phase_change_writes_one_row_and_a_write_keeping_the_phase_writes_none() {
    let db = TestDb::new().await;
    let id = scheduled_event(&db.pool).await;
    sqlx::query("update events set description = 'edited', updated_at = now() where id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .expect("edit");
    set_phase(&db.pool, id, "Scheduled").await;
    set_phase(&db.pool, id, "Active").await;
    // The transaction rolled back: so did its announcement.
    let mut tx = db.pool.begin().await.expect("begin");
    sqlx::query("update events set phase = 'Ended' where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .expect("update");
    tx.rollback().await.expect("rollback");

    let rows = phase_rows(&db.pool).await;
    let transitions: Vec<_> = rows.iter().map(|row| (row.from, row.to)).collect();
    assert_eq!(
        transitions,
        [
            (None, EventPhase::Scheduled),
            (Some(EventPhase::Scheduled), EventPhase::Active)
        ]
    );
    assert!(
        rows.iter()
            .all(|row| row.event_id == id && row.generation == 3 && row.namespace == "games")
    );
    let ids: Vec<String> = sqlx::query_scalar("select payload->>'id' from outbox")
        .fetch_all(&db.pool)
        .await
        .expect("ids");
    assert!(ids[0] != ids[1], "distinct transitions have distinct ids");
}

#[tokio::test]
async fn batched_phase_updates_reach_nats_in_order_per_event() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let events = [scheduled_event(&db.pool).await, scheduled_event(&db.pool).await];
    // The phase timer's shape: one statement for every due row.
    for phase in ["Active", "Suspended", "Active", "Ended"] {
        sqlx::query("update events set phase = $2::event_phase, updated_at = now() where id = any($1)")
            .bind(&events[..])
            .bind(phase)
            .execute(&db.pool)
            .await
            .expect("batched update");
    }
    set_phase(&db.pool, events[0], "Ended").await;

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
    let mut per_event: HashMap<String, Vec<(Option<EventPhase>, EventPhase)>> = HashMap::new();
    let mut ids = Vec::new();
    for message in stream_messages(&js, &stream).await {
        let data: PhaseChanged = serde_json::from_slice(&message.payload).expect("PhaseChanged data");
        assert_eq!(
            message.subject.as_str(),
            format!("{prefix}.event.phase_changed.{}", data.event_id)
        );
        ids.push(message.headers.get("Nats-Msg-Id").map(|v| v.to_string()));
        per_event
            .entry(message.subject.to_string())
            .or_default()
            .push((data.from, data.to));
    }
    use EventPhase::{Active, Ended, Scheduled, Suspended};
    let expected = vec![
        (None, Scheduled),
        (Some(Scheduled), Active),
        (Some(Active), Suspended),
        (Some(Suspended), Active),
        (Some(Active), Ended),
    ];
    assert_eq!(per_event.len(), 2);
    for (subject, transitions) in &per_event {
        assert_eq!(transitions, &expected, "{subject}");
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "every message has its own Nats-Msg-Id");
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}
