//! `RELAY_TRANSPORT=none`: no broker. Every message counts as stored, so
//! rows are marked and later deleted and the outbox stays bounded where
//! nothing consumes events (local runs, installations without a broker).

use super::{Delivery, Transport, TransportError};
use crate::cloudevent::Outbound;

/// Discards every message.
#[derive(Debug, Clone, Copy)]
pub struct NoneTransport;

impl Transport for NoneTransport {
    async fn publish_batch(&mut self, messages: &[Outbound]) -> Result<Vec<Delivery>, TransportError> {
        Ok(vec![Delivery::Stored; messages.len()])
    }

    async fn check(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}
