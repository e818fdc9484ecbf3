//! The liveops operator: reconciles Event, Reward and WebhookEndpoint custom
//! resources into PostgreSQL and moves each Event through its phases on time.
#![forbid(unsafe_code)]

pub mod config;
pub mod controller;
pub mod crdgen;
pub mod error;
pub mod health;
pub mod leader;
pub mod metrics;
pub mod phase_timer;
pub mod projection;
pub mod reconcile;
pub mod schedule;
pub mod shutdown;
pub mod source;
pub mod startup;
pub mod telemetry;

pub use error::{Error, Result};

#[cfg(any(test, feature = "fake-api"))]
pub mod fake_api;
