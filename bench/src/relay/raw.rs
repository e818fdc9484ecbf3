//! The drain baseline: already-encoded messages published raw, with no
//! database, keeping `window` publishes unacknowledged at any time, with
//! the relay's own headers and properties (`transport::nats::headers`,
//! `transport::amqp::properties`) and the relay's publish options.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, stream::FuturesOrdered};
use lapin::{
    Confirmation,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use relay::{cloudevent::Outbound, config::TransportKind, transport};

use super::broker::{self, Broker};

/// Publishes `messages` to destination `name` of `broker`; returns how long
/// it took from the first publish to the last acknowledgement.
pub async fn publish(
    broker: &Broker,
    name: &str,
    messages: &[Outbound],
    window: usize,
) -> anyhow::Result<Duration> {
    match broker.kind {
        TransportKind::Nats => nats(&broker.url, messages, window).await,
        TransportKind::Amqp => amqp(&broker.url, name, messages, window).await,
        TransportKind::None => bail!("the raw publish needs a broker"),
    }
}

async fn nats(url: &str, messages: &[Outbound], window: usize) -> anyhow::Result<Duration> {
    let js = broker::nats(url).await?;
    let started = Instant::now();
    let mut in_flight = FuturesOrdered::new();
    for message in messages {
        let ack = js
            .publish_with_headers(
                message.subject.clone(),
                transport::nats::headers(message),
                message.body.clone(),
            )
            .await?;
        in_flight.push_back(ack.into_future());
        if in_flight.len() >= window
            && let Some(acked) = in_flight.next().await
        {
            acked?;
        }
    }
    while let Some(acked) = in_flight.next().await {
        acked?;
    }
    Ok(started.elapsed())
}

async fn amqp(url: &str, exchange: &str, messages: &[Outbound], window: usize) -> anyhow::Result<Duration> {
    let (_connection, channel) = broker::amqp(url).await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    let mandatory = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let confirmed = |confirmation: lapin::Result<Confirmation>| -> anyhow::Result<()> {
        match confirmation.context("publisher confirm")? {
            Confirmation::Ack(None) => Ok(()),
            other => bail!("the broker did not store a raw message: {other:?}"),
        }
    };
    let started = Instant::now();
    let mut in_flight = FuturesOrdered::new();
    for message in messages {
        let confirm = channel
            .basic_publish(
                exchange.into(),
                message.subject.as_str().into(),
                mandatory,
                &message.body,
                transport::amqp::properties(message),
            )
            .await?;
        in_flight.push_back(confirm);
        if in_flight.len() >= window
            && let Some(confirmation) = in_flight.next().await
        {
            confirmed(confirmation)?;
        }
    }
    while let Some(confirmation) = in_flight.next().await {
        confirmed(confirmation)?;
    }
    Ok(started.elapsed())
}
