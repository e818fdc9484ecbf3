//! NATS JetStream: CloudEvents NATS binding (binary mode: `ce-` headers),
//! `Nats-Msg-Id` = the event id so JetStream drops a republished event
//! within the stream's duplicate window and says so in its PubAck.

use std::time::Duration;

use async_nats::{
    HeaderMap,
    jetstream::{
        self,
        context::{PublishAckFuture, PublishErrorKind},
        stream,
    },
};

use super::{Acks, Delivery, Transport, TransportError, TransportSettings};
use crate::cloudevent::Outbound;

/// A connection to a JetStream-enabled NATS server.
pub struct NatsTransport {
    jetstream: jetstream::Context,
    stream: String,
    ack_timeout: Duration,
}

impl NatsTransport {
    /// Connects and makes sure the stream exists and covers `<prefix>.>`:
    /// created when missing; an existing stream keeps its settings (limits,
    /// replicas, retention are the owner's) and only gains the subject.
    pub async fn connect(settings: &TransportSettings) -> Result<Self, TransportError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(settings.ack_timeout)
            .name("liveops-relay")
            .connect(settings.url.as_str())
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        let jetstream = jetstream::context::ContextBuilder::new()
            .timeout(settings.ack_timeout)
            .build(client);
        let subjects = format!("{}.>", settings.subject_prefix);
        let mut found = jetstream
            .get_or_create_stream(stream::Config {
                name: settings.nats_stream.clone(),
                subjects: vec![subjects.clone()],
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| TransportError::Connect(format!("stream {}: {e}", settings.nats_stream)))?;
        let mut config = found
            .info()
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?
            .config
            .clone();
        if !config.subjects.contains(&subjects) {
            config.subjects.push(subjects);
            jetstream
                .update_stream(&config)
                .await
                .map_err(|e| TransportError::Connect(format!("stream {}: {e}", settings.nats_stream)))?;
        }
        Ok(Self {
            jetstream,
            stream: settings.nats_stream.clone(),
            ack_timeout: settings.ack_timeout,
        })
    }
}

/// The NATS headers of `message`: `ce-<attribute>` (binary mode only),
/// `Nats-Msg-Id` and `content-type`.
pub fn headers(message: &Outbound) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in &message.attributes {
        headers.insert(format!("ce-{name}").as_str(), value.as_str());
    }
    headers.insert("Nats-Msg-Id", message.id.as_str());
    headers.insert("content-type", message.content_type.as_str());
    headers
}

impl Transport for NatsTransport {
    async fn send(&mut self, messages: &[Outbound]) -> Result<Acks, TransportError> {
        // Every message goes out on the one connection, in order; the acks
        // are collected later, so batches follow each other without a
        // round trip in between.
        let mut pending: Vec<Result<PublishAckFuture, Delivery>> = Vec::with_capacity(messages.len());
        for message in messages {
            let sent = self
                .jetstream
                .publish_with_headers(message.subject.clone(), headers(message), message.body.clone())
                .await;
            pending.push(match sent {
                Ok(ack) => Ok(ack),
                Err(error) if error.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    Err(Delivery::Refused(error.to_string()))
                }
                Err(error) => return Err(TransportError::Publish(error.to_string())),
            });
        }
        Ok(Box::pin(answers(pending, self.ack_timeout)))
    }

    async fn check(&mut self) -> Result<(), TransportError> {
        self.jetstream
            .get_stream(&self.stream)
            .await
            .map(|_| ())
            .map_err(|e| TransportError::Connect(format!("stream {}: {e}", self.stream)))
    }
}

/// The deliveries of `pending`, in order.
async fn answers(
    pending: Vec<Result<PublishAckFuture, Delivery>>,
    ack_timeout: Duration,
) -> Result<Vec<Delivery>, TransportError> {
    let mut deliveries = Vec::with_capacity(pending.len());
    for ack in pending {
        let ack = match ack {
            Ok(ack) => ack,
            Err(refused) => {
                deliveries.push(refused);
                continue;
            }
        };
        deliveries.push(match ack.await {
            Ok(ack) if ack.duplicate => Delivery::Duplicate,
            Ok(_) => Delivery::Stored,
            Err(error) => match error.kind() {
                PublishErrorKind::TimedOut => return Err(TransportError::Timeout(ack_timeout)),
                PublishErrorKind::BrokenPipe => return Err(TransportError::Publish(error.to_string())),
                // No stream took the subject, or the stream refused the
                // message (size, limits): about this message, unless
                // `check` finds the stream itself gone.
                _ => Delivery::Refused(error.to_string()),
            },
        });
    }
    Ok(deliveries)
}
