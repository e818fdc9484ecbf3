//! The liveops outbox relay: publishes the rows the claim statement (and,
//! later, the operator) writes to `outbox` to NATS JetStream or RabbitMQ as
//! CloudEvents 1.0, and delivers them to webhook endpoints (DESIGN.md,
//! "Second stage" -> "Event bus").
#![forbid(unsafe_code)]

pub mod backoff;
pub mod batch;
pub mod cloudevent;
pub mod config;
pub mod error;
pub mod event_schema;
pub mod health;
pub mod leader;
pub mod metrics;
pub mod outbox;
pub mod publisher;
pub mod startup;
pub mod telemetry;
pub mod transport;
pub mod webhook;

pub use error::{Error, Result};
