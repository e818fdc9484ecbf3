//! NATS JetStream: events arrive as CloudEvents a parser accepts, in
//! outbox order per Event, and a relay that died between the broker's ack
//! and the mark publishes again without a second copy in the stream.

use std::time::Duration;

use cloudevents::AttributesReader;
use liveops_testkit::TestDb;
use relay::{
    cloudevent,
    config::{CeMode, TransportKind},
    outbox,
    transport::{AnyTransport, Delivery, Transport},
};
use serde_json::{Value, json};
use sqlx::Connection;
use uuid::Uuid;

use crate::support::{
    RunningRelay, insert_row, jetstream, metric, nats_url, pending, settings, stream_count, stream_messages,
    unique, wait_until,
};

/// The NATS headers of a stored message as HTTP headers, for the
/// CloudEvents HTTP parser (the NATS binding uses the same `ce-` names).
fn as_http_headers(headers: &async_nats::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for name in [
        "ce-id",
        "ce-type",
        "ce-source",
        "ce-specversion",
        "ce-time",
        "ce-subject",
        "content-type",
    ] {
        if let Some(value) = headers.get(name) {
            out.insert(name, value.as_str().parse().expect("header value"));
        }
    }
    out
}

#[tokio::test]
async fn binary_mode_events_parse_as_cloudevents_with_msg_id_and_subject_per_event() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    let event_id = Uuid::new_v4();
    let id = insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        event_id,
        json!({"claimId": "c-1"}),
    )
    .await;
    let relay = RunningRelay::start(settings(
        &db.url,
        TransportKind::Nats,
        &nats_url(),
        &prefix,
        &stream,
    ));

    wait_until(Duration::from_secs(15), "the row is published", || async {
        pending(&db.pool).await == 0
    })
    .await;
    let messages = stream_messages(&js, &stream).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(
        message.subject.as_str(),
        format!("{prefix}.reward.claimed.{event_id}")
    );
    let headers = &message.headers;
    assert_eq!(headers.get("Nats-Msg-Id").map(|v| v.as_str()), Some(id.as_str()));
    let event = cloudevents::binding::http::to_event(&as_http_headers(headers), message.payload.to_vec())
        .expect("a valid binary-mode CloudEvent");
    assert_eq!(event.id(), id);
    assert_eq!(event.ty(), "dev.liveops.reward.claimed");
    assert_eq!(event.source().as_str(), "/liveops/events/default/test");
    assert_eq!(event.subject(), Some("test-reward"));
    assert!(event.time().is_some());
    assert_eq!(event.datacontenttype(), Some("application/json"));
    let data = crate::support::json_data(&event);
    assert_eq!(data["claimId"], "c-1");
    assert_eq!(data["eventId"], json!(event_id));
    assert_eq!(
        metric(
            &relay.metrics,
            r#"liveops_relay_published_total{type="dev.liveops.reward.claimed"}"#
        ),
        1.0
    );
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}

#[tokio::test]
async fn structured_mode_sends_the_whole_event_as_cloudevents_json() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    let id = insert_row(
        &db.pool,
        "dev.liveops.reward.sold_out",
        Uuid::new_v4(),
        json!({"quantity": 3}),
    )
    .await;
    let mut relay_settings = settings(&db.url, TransportKind::Nats, &nats_url(), &prefix, &stream);
    relay_settings.transport.ce_mode = CeMode::Structured;
    let relay = RunningRelay::start(relay_settings);

    wait_until(Duration::from_secs(15), "the row is published", || async {
        pending(&db.pool).await == 0
    })
    .await;
    let messages = stream_messages(&js, &stream).await;
    assert_eq!(messages.len(), 1);
    let headers = &messages[0].headers;
    assert_eq!(
        headers.get("content-type").map(|v| v.as_str()),
        Some(cloudevent::STRUCTURED_CONTENT_TYPE)
    );
    assert!(
        headers.get("ce-id").is_none(),
        "structured mode carries no ce- headers"
    );
    let event: cloudevents::Event = serde_json::from_slice(&messages[0].payload).expect("CloudEvents JSON");
    assert_eq!(event.id(), id);
    assert_eq!(event.ty(), "dev.liveops.reward.sold_out");
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}

#[tokio::test]
async fn messages_of_one_event_arrive_in_outbox_order() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    for n in 0..60 {
        let event = if n % 3 == 0 { first } else { second };
        insert_row(
            &db.pool,
            "dev.liveops.event.phase_changed",
            event,
            json!({"n": n}),
        )
        .await;
    }
    let mut relay_settings = settings(&db.url, TransportKind::Nats, &nats_url(), &prefix, &stream);
    relay_settings.batch_size = 7;
    let relay = RunningRelay::start(relay_settings);

    wait_until(Duration::from_secs(20), "every row is published", || async {
        pending(&db.pool).await == 0
    })
    .await;
    let messages = stream_messages(&js, &stream).await;
    assert_eq!(messages.len(), 60);
    for event in [first, second] {
        let subject = format!("{prefix}.event.phase_changed.{event}");
        let order: Vec<i64> = messages
            .iter()
            .filter(|message| message.subject.as_str() == subject)
            .map(|message| {
                serde_json::from_slice::<Value>(&message.payload).expect("json")["n"]
                    .as_i64()
                    .expect("n")
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "messages of {event} out of order");
        assert!(!order.is_empty());
    }
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}

#[tokio::test]
async fn a_relay_killed_between_ack_and_mark_publishes_again_and_jetstream_reports_duplicates() {
    let js = jetstream().await;
    let db = TestDb::new().await;
    let (prefix, stream) = (unique("t"), unique("T_"));
    for n in 0..3 {
        insert_row(
            &db.pool,
            "dev.liveops.reward.claimed",
            Uuid::new_v4(),
            json!({"n": n}),
        )
        .await;
    }
    // What a relay does up to the broker's ack, then it "dies": no mark.
    let relay_settings = settings(&db.url, TransportKind::Nats, &nats_url(), &prefix, &stream);
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let rows = outbox::fetch_due(&mut conn, 10, &[], CeMode::Binary)
        .await
        .expect("rows");
    let messages: Vec<_> = rows
        .iter()
        .map(|row| cloudevent::encode(row, &prefix, CeMode::Binary).expect("encode"))
        .collect();
    let mut transport = AnyTransport::connect(&relay_settings.transport)
        .await
        .expect("connect to NATS");
    let first = transport.publish_batch(&messages).await.expect("published");
    assert_eq!(first, vec![Delivery::Stored; 3]);
    drop(transport);
    assert_eq!(pending(&db.pool).await, 3, "nothing was marked");

    let relay = RunningRelay::start(relay_settings);
    wait_until(Duration::from_secs(15), "the rows are marked", || async {
        pending(&db.pool).await == 0
    })
    .await;
    assert_eq!(
        stream_count(&js, &stream).await,
        3,
        "JetStream kept one copy of each"
    );
    assert_eq!(
        metric(
            &relay.metrics,
            r#"liveops_relay_duplicates_total{type="dev.liveops.reward.claimed"}"#
        ),
        3.0
    );
    relay.stop().await;
    let _ = js.delete_stream(&stream).await;
}
