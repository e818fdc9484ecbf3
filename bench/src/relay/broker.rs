//! The broker side of a drain run, the same for the relay and the raw
//! publish: a NATS stream on `<prefix>.>` (file storage, as the relay
//! creates it), or a RabbitMQ durable topic exchange with one durable queue
//! bound to `<prefix>.#` (so `mandatory` messages route and persist); how
//! many messages it stored; and removing it afterwards.

use anyhow::Context;
use async_nats::jetstream::{self, stream};
use lapin::{
    Channel, Connection, ConnectionProperties, ExchangeKind,
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::FieldTable,
};
use relay::config::TransportKind;

/// A broker the bench publishes to.
#[derive(Debug, Clone)]
pub struct Broker {
    /// NATS or AMQP.
    pub kind: TransportKind,
    /// Its URL.
    pub url: String,
}

impl Broker {
    /// What the printed figures name.
    pub fn label(&self) -> &'static str {
        match self.kind {
            TransportKind::Nats => "NATS JetStream (file storage)",
            TransportKind::Amqp => {
                "RabbitMQ (durable topic exchange and queue, persistent, publisher confirms)"
            }
            TransportKind::None => "no broker",
        }
    }

    /// A fresh, empty destination `name` taking `<prefix>.*` subjects.
    pub async fn prepare(&self, name: &str, prefix: &str) -> anyhow::Result<()> {
        self.remove(name).await?;
        match self.kind {
            TransportKind::Nats => {
                nats(&self.url)
                    .await?
                    .create_stream(stream::Config {
                        name: name.to_owned(),
                        subjects: vec![format!("{prefix}.>")],
                        storage: stream::StorageType::File,
                        ..Default::default()
                    })
                    .await
                    .with_context(|| format!("create stream {name}"))?;
            }
            TransportKind::Amqp => {
                let (_connection, channel) = amqp(&self.url).await?;
                let durable = ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                };
                channel
                    .exchange_declare(name.into(), ExchangeKind::Topic, durable, FieldTable::default())
                    .await?;
                let durable = QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                };
                channel
                    .queue_declare(name.into(), durable, FieldTable::default())
                    .await?;
                channel
                    .queue_bind(
                        name.into(),
                        name.into(),
                        format!("{prefix}.#").as_str().into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await?;
            }
            TransportKind::None => {}
        }
        Ok(())
    }

    /// Messages stored in destination `name`.
    pub async fn stored(&self, name: &str) -> anyhow::Result<u64> {
        Ok(match self.kind {
            TransportKind::Nats => {
                nats(&self.url)
                    .await?
                    .get_stream(name)
                    .await?
                    .info()
                    .await?
                    .state
                    .messages
            }
            TransportKind::Amqp => {
                let (_connection, channel) = amqp(&self.url).await?;
                let passive = QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                };
                let queue = channel
                    .queue_declare(name.into(), passive, FieldTable::default())
                    .await?;
                u64::from(queue.message_count())
            }
            TransportKind::None => 0,
        })
    }

    /// Deletes destination `name` and what it stored, if it exists.
    pub async fn remove(&self, name: &str) -> anyhow::Result<()> {
        match self.kind {
            TransportKind::Nats => {
                let _ = nats(&self.url).await?.delete_stream(name).await;
            }
            TransportKind::Amqp => {
                // A failed delete closes the channel: one channel per delete.
                let (connection, channel) = amqp(&self.url).await?;
                let _ = channel
                    .queue_delete(name.into(), QueueDeleteOptions::default())
                    .await;
                let channel = connection.create_channel().await?;
                let _ = channel
                    .exchange_delete(name.into(), ExchangeDeleteOptions::default())
                    .await;
            }
            TransportKind::None => {}
        }
        Ok(())
    }
}

/// A JetStream context on `url`.
pub async fn nats(url: &str) -> anyhow::Result<jetstream::Context> {
    let client = async_nats::connect(url)
        .await
        .with_context(|| format!("connect to NATS at {url}"))?;
    Ok(jetstream::new(client))
}

/// A connection and a channel on `url`.
pub async fn amqp(url: &str) -> anyhow::Result<(Connection, Channel)> {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .with_context(|| format!("connect to RabbitMQ at {url}"))?;
    let channel = connection.create_channel().await?;
    Ok((connection, channel))
}
