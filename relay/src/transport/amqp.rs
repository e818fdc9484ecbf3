//! RabbitMQ (AMQP 0-9-1): a durable topic exchange, publisher confirms and
//! `mandatory`, so an unroutable message comes back and counts as refused.
//! CloudEvents AMQP binding: application headers `cloudEvents_<attribute>`
//! (binary mode), `message_id` = the event id, `content_type`.
//! The routing key is the full subject, `liveops.reward.claimed.<eventId>`,
//! the same string as on NATS: bind `liveops.reward.#` and the like.

use std::time::Duration;

use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use super::{Acks, Delivery, Transport, TransportError, TransportSettings};
use crate::cloudevent::Outbound;

/// A connection with one confirming channel.
pub struct AmqpTransport {
    connection: Connection,
    channel: Channel,
    exchange: String,
    ack_timeout: Duration,
}

impl AmqpTransport {
    /// Connects, declares the durable topic exchange and turns on
    /// publisher confirms.
    pub async fn connect(settings: &TransportSettings) -> Result<Self, TransportError> {
        let connect_error = |e: lapin::Error| TransportError::Connect(e.to_string());
        let connection = Connection::connect(&settings.url, ConnectionProperties::default())
            .await
            .map_err(connect_error)?;
        let channel = connection.create_channel().await.map_err(connect_error)?;
        channel
            .exchange_declare(
                settings.amqp_exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(connect_error)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(connect_error)?;
        Ok(Self {
            connection,
            channel,
            exchange: settings.amqp_exchange.clone(),
            ack_timeout: settings.ack_timeout,
        })
    }
}

/// The AMQP properties of `message`: persistent, `message_id`,
/// `content_type`, and the `cloudEvents_<attribute>` headers.
pub fn properties(message: &Outbound) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (name, value) in &message.attributes {
        headers.insert(
            ShortString::from(format!("cloudEvents_{name}")),
            AMQPValue::LongString(LongString::from(value.as_str())),
        );
    }
    BasicProperties::default()
        .with_message_id(message.id.as_str().into())
        .with_content_type(message.content_type.as_str().into())
        // 2 = persistent: survives a broker restart in durable queues
        .with_delivery_mode(2)
        .with_app_id("liveops-relay".into())
        .with_headers(headers)
}

impl Transport for AmqpTransport {
    async fn send(&mut self, messages: &[Outbound]) -> Result<Acks, TransportError> {
        let mandatory = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        // All messages go out on one channel before any confirm is awaited:
        // the broker confirms them in order, and the next batch follows
        // without waiting for these confirms.
        let mut confirms = Vec::with_capacity(messages.len());
        for message in messages {
            let confirm = self
                .channel
                .basic_publish(
                    self.exchange.as_str().into(),
                    message.subject.as_str().into(),
                    mandatory,
                    &message.body,
                    properties(message),
                )
                .await
                .map_err(publish_error)?;
            confirms.push(confirm);
        }
        Ok(Box::pin(answers(confirms, self.ack_timeout)))
    }

    async fn check(&mut self) -> Result<(), TransportError> {
        if self.connection.status().connected() && self.channel.status().connected() {
            Ok(())
        } else {
            Err(TransportError::Publish(
                "the AMQP connection is closed".to_owned(),
            ))
        }
    }
}

fn publish_error(error: lapin::Error) -> TransportError {
    TransportError::Publish(error.to_string())
}

/// The deliveries of `confirms`, in order.
async fn answers(
    confirms: Vec<PublisherConfirm>,
    ack_timeout: Duration,
) -> Result<Vec<Delivery>, TransportError> {
    let mut deliveries = Vec::with_capacity(confirms.len());
    for confirm in confirms {
        let confirmation = tokio::time::timeout(ack_timeout, confirm)
            .await
            .map_err(|_| TransportError::Timeout(ack_timeout))?
            .map_err(publish_error)?;
        deliveries.push(match confirmation {
            Confirmation::Ack(None) => Delivery::Stored,
            Confirmation::Ack(Some(returned)) => Delivery::Refused(format!(
                "returned unroutable: {} {}",
                returned.reply_code, returned.reply_text
            )),
            Confirmation::Nack(_) => Delivery::Refused("nacked by the broker".to_owned()),
            Confirmation::NotRequested => {
                return Err(TransportError::Publish("publisher confirms are off".to_owned()));
            }
        });
    }
    Ok(deliveries)
}
