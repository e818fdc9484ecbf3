//! The brokers behind one trait: [`Transport`] sends a batch in order and
//! reports later, per message, whether the broker stored or refused it.
//! One file per transport; [`AnyTransport`] picks one from the settings.

pub mod amqp;
pub mod nats;
pub mod none;

use std::{future::Future, time::Duration};

use futures::future::BoxFuture;

use crate::{
    cloudevent::Outbound,
    config::{CeMode, Config, TransportKind},
};

/// What the broker answered for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Stored (JetStream PubAck, AMQP confirm of a routed message).
    Stored,
    /// Acknowledged as already stored: JetStream matched `Nats-Msg-Id`.
    Duplicate,
    /// This message was refused while the broker is fine: it counts towards
    /// RELAY_MAX_ATTEMPTS (unroutable, too large, nacked).
    Refused(String),
}

/// The broker cannot be reached or did not answer: nothing about any one
/// message, so nothing counts towards dead-lettering. The relay drops the
/// connection, backs off and reconnects, forever.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// Connecting, or setting up the stream or exchange, failed.
    #[error("cannot connect to the broker: {0}")]
    Connect(String),
    /// The connection failed while publishing.
    #[error("publishing failed: {0}")]
    Publish(String),
    /// No acknowledgement within the deadline.
    #[error("no acknowledgement within {0:?}")]
    Timeout(Duration),
}

impl TransportError {
    /// The `class` label of the error counter.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Publish(_) => "publish",
            Self::Timeout(_) => "timeout",
        }
    }
}

/// The broker's answers to one sent batch: one [`Delivery`] per message, in
/// order, or a broker failure. It borrows nothing, so the next batch can be
/// sent while these acknowledgements are still on their way.
pub type Acks = BoxFuture<'static, Result<Vec<Delivery>, TransportError>>;

/// A connected broker.
pub trait Transport: Send {
    /// Sends `messages` in this order without waiting for the broker and
    /// returns their acknowledgements to come. Whatever a later `send` on
    /// the same transport carries reaches the broker after these.
    fn send(&mut self, messages: &[Outbound]) -> impl Future<Output = Result<Acks, TransportError>> + Send;

    /// Sends `messages` and waits for every acknowledgement.
    fn publish_batch(
        &mut self,
        messages: &[Outbound],
    ) -> impl Future<Output = Result<Vec<Delivery>, TransportError>> + Send {
        async move { self.send(messages).await?.await }
    }

    /// Checks that the broker itself works (the stream or exchange is
    /// there), after a batch in which every message was refused: a refusal
    /// of everything may be the broker's fault, and then nothing is counted.
    fn check(&mut self) -> impl Future<Output = Result<(), TransportError>> + Send;
}

/// Everything a transport needs to connect.
#[derive(Debug, Clone)]
pub struct TransportSettings {
    /// Which broker.
    pub kind: TransportKind,
    /// Its URL (unused for `none`).
    pub url: String,
    /// JetStream stream name.
    pub nats_stream: String,
    /// AMQP exchange name.
    pub amqp_exchange: String,
    /// First subject token.
    pub subject_prefix: String,
    /// CloudEvents content mode.
    pub ce_mode: CeMode,
    /// Acknowledgement deadline.
    pub ack_timeout: Duration,
}

impl TransportSettings {
    /// The settings in `config`.
    pub fn from_config(config: &Config) -> Self {
        let url = match config.transport {
            TransportKind::Nats => config.nats_url.as_ref(),
            TransportKind::Amqp => config.amqp_url.as_ref(),
            TransportKind::None => None,
        };
        Self {
            kind: config.transport,
            url: url.map(|url| url.expose().to_owned()).unwrap_or_default(),
            nats_stream: config.nats_stream.clone(),
            amqp_exchange: config.amqp_exchange.clone(),
            subject_prefix: config.subject_prefix.clone(),
            ce_mode: config.ce_mode,
            ack_timeout: config.ack_timeout(),
        }
    }
}

/// The transport the settings name.
pub enum AnyTransport {
    /// See [`none::NoneTransport`].
    None(none::NoneTransport),
    /// See [`nats::NatsTransport`].
    Nats(nats::NatsTransport),
    /// See [`amqp::AmqpTransport`].
    Amqp(amqp::AmqpTransport),
}

impl AnyTransport {
    /// Connects to the broker the settings name and prepares its stream or
    /// exchange.
    pub async fn connect(settings: &TransportSettings) -> Result<Self, TransportError> {
        // Connecting must not hang on a black-holed address either.
        let connecting = async {
            Ok(match settings.kind {
                TransportKind::None => Self::None(none::NoneTransport),
                TransportKind::Nats => Self::Nats(nats::NatsTransport::connect(settings).await?),
                TransportKind::Amqp => Self::Amqp(amqp::AmqpTransport::connect(settings).await?),
            })
        };
        tokio::time::timeout(settings.ack_timeout, connecting)
            .await
            .map_err(|_| TransportError::Connect(format!("no answer within {:?}", settings.ack_timeout)))?
    }
}

impl Transport for AnyTransport {
    async fn send(&mut self, messages: &[Outbound]) -> Result<Acks, TransportError> {
        match self {
            Self::None(transport) => transport.send(messages).await,
            Self::Nats(transport) => transport.send(messages).await,
            Self::Amqp(transport) => transport.send(messages).await,
        }
    }

    async fn check(&mut self) -> Result<(), TransportError> {
        match self {
            Self::None(transport) => transport.check().await,
            Self::Nats(transport) => transport.check().await,
            Self::Amqp(transport) => transport.check().await,
        }
    }
}
