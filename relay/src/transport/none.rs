//! `RELAY_TRANSPORT=none`: no broker. Every message counts as stored, so
//! rows are marked and later deleted and the outbox stays bounded where
//! nothing consumes events (local runs, installations without a broker).

use super::{Acks, Delivery, Transport, TransportError};
use crate::cloudevent::Outbound;

/// Discards every message.
#[derive(Debug, Clone, Copy)]
pub struct NoneTransport;

impl Transport for NoneTransport {
    async fn send(&mut self, messages: &[Outbound]) -> Result<Acks, TransportError> {
        let count = messages.len();
        Ok(Box::pin(async move { Ok(vec![Delivery::Stored; count]) }))
    }

    async fn check(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}
