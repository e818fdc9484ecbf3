//! RabbitMQ: events arrive on the topic exchange as binary-mode CloudEvents
//! (`cloudEvents_*` headers, `message_id`), and a message no queue is bound
//! for comes back (`mandatory`), counts as refused and ends in the dead
//! letters while routable ones flow.

use std::time::Duration;

use cloudevents::AttributesReader;
use lapin::{
    Channel, Connection, ConnectionProperties, ExchangeKind,
    message::BasicGetMessage,
    options::{BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};
use liveops_testkit::TestDb;
use relay::config::TransportKind;
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    RunningRelay, amqp_url, insert_row, pending, require_broker, settings, unique, wait_until,
};

/// A channel with an exclusive queue bound to `exchange` for `pattern`.
async fn bound_queue(exchange: &str, pattern: &str) -> (Connection, Channel, String) {
    let url = amqp_url();
    require_broker(&url, "AMQP_URL").await;
    let connection = Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await
        .expect("declare the exchange as the relay does");
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    let queue = channel
        .queue_declare("".into(), exclusive, FieldTable::default())
        .await
        .expect("queue");
    let name = queue.name().as_str().to_owned();
    channel
        .queue_bind(
            name.as_str().into(),
            exchange.into(),
            pattern.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
    (connection, channel, name)
}

/// Takes `count` messages from `queue`, waiting up to 15 s.
async fn take(channel: &Channel, queue: &str, count: usize) -> Vec<BasicGetMessage> {
    let mut messages = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while messages.len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {count} messages arrived",
            messages.len()
        );
        match channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
        {
            Some(message) => messages.push(message),
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    messages
}

/// AMQP application headers `cloudEvents_<name>` and `content_type` as the
/// HTTP `ce-<name>` headers the CloudEvents parser reads.
fn as_http_headers(message: &BasicGetMessage) -> http::HeaderMap {
    let properties = &message.delivery.properties;
    let mut out = http::HeaderMap::new();
    let headers = properties.headers().clone().unwrap_or_default();
    for (key, value) in headers.inner() {
        if let (Some(name), AMQPValue::LongString(text)) = (key.as_str().strip_prefix("cloudEvents_"), value)
        {
            let name: http::HeaderName = format!("ce-{name}").parse().expect("header name");
            out.insert(name, text.to_string().parse().expect("header value"));
        }
    }
    let content_type = properties.content_type().as_ref().expect("content_type").as_str();
    out.insert("content-type", content_type.parse().expect("content type"));
    out
}

#[tokio::test]
async fn binary_mode_events_arrive_on_the_topic_exchange_as_cloudevents() {
    let db = TestDb::new().await;
    let exchange = unique("t-");
    let (_connection, channel, queue) = bound_queue(&exchange, "liveops.reward.#").await;
    let event_id = Uuid::new_v4();
    let id = insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        event_id,
        json!({"claimId": "c-9"}),
    )
    .await;
    let relay = RunningRelay::start(settings(
        &db.url,
        TransportKind::Amqp,
        &amqp_url(),
        "liveops",
        &exchange,
    ));

    let messages = take(&channel, &queue, 1).await;
    let delivery = &messages[0].delivery;
    assert_eq!(
        delivery.routing_key.as_str(),
        format!("liveops.reward.claimed.{event_id}")
    );
    let properties = &delivery.properties;
    assert_eq!(
        properties.message_id().as_ref().map(|v| v.as_str()),
        Some(id.as_str())
    );
    assert_eq!(*properties.delivery_mode(), Some(2));
    let event = cloudevents::binding::http::to_event(&as_http_headers(&messages[0]), delivery.data.clone())
        .expect("a valid binary-mode CloudEvent");
    assert_eq!(event.id(), id);
    assert_eq!(event.ty(), "dev.liveops.reward.claimed");
    assert_eq!(event.subject(), Some("test-reward"));
    assert_eq!(event.datacontenttype(), Some("application/json"));
    let data = crate::support::json_data(&event);
    assert_eq!(data["claimId"], "c-9");
    wait_until(Duration::from_secs(10), "the row is marked", || async {
        pending(&db.pool).await == 0
    })
    .await;
    relay.stop().await;
    let _ = channel
        .exchange_delete(exchange.as_str().into(), Default::default())
        .await;
}

#[tokio::test]
async fn an_unroutable_message_is_refused_and_dead_lettered_while_the_rest_flow() {
    let db = TestDb::new().await;
    let exchange = unique("t-");
    let (_connection, channel, queue) = bound_queue(&exchange, "liveops.reward.#").await;
    let first = insert_row(
        &db.pool,
        "dev.liveops.reward.claimed",
        Uuid::new_v4(),
        json!({"n": 1}),
    )
    .await;
    let poison = insert_row(
        &db.pool,
        "dev.liveops.nobody.listens",
        Uuid::new_v4(),
        json!({"n": 2}),
    )
    .await;
    let last = insert_row(
        &db.pool,
        "dev.liveops.reward.sold_out",
        Uuid::new_v4(),
        json!({"n": 3}),
    )
    .await;
    let relay = RunningRelay::start(settings(
        &db.url,
        TransportKind::Amqp,
        &amqp_url(),
        "liveops",
        &exchange,
    ));

    let messages = take(&channel, &queue, 2).await;
    let ids: Vec<String> = messages
        .iter()
        .map(|m| {
            m.delivery
                .properties
                .message_id()
                .as_ref()
                .expect("message_id")
                .to_string()
        })
        .collect();
    assert_eq!(ids, vec![first, last]);
    // three refused tries with their backoff take about a second; the rest
    // is room for a RabbitMQ starved of CPU by a parallel test run
    wait_until(
        Duration::from_secs(60),
        "the unroutable row is dead-lettered",
        || async {
            sqlx::query_scalar::<_, i64>("select count(*) from outbox_dead_letters")
                .fetch_one(&db.pool)
                .await
                .unwrap_or(0)
                == 1
        },
    )
    .await;
    let (payload, last_error): (serde_json::Value, String) =
        sqlx::query_as("select payload, last_error from outbox_dead_letters")
            .fetch_one(&db.pool)
            .await
            .expect("dead letter");
    assert_eq!(payload["id"], json!(poison));
    assert!(last_error.contains("NO_ROUTE"), "{last_error}");
    assert_eq!(pending(&db.pool).await, 0);
    relay.stop().await;
    let _ = channel
        .exchange_delete(exchange.as_str().into(), Default::default())
        .await;
}
