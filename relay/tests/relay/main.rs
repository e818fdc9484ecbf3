//! Integration tests of the relay against real PostgreSQL, NATS JetStream
//! and RabbitMQ (`scripts/test` starts the brokers when none answers; URLs
//! from NATS_URL and AMQP_URL). Each test uses its own database, stream,
//! subject prefix and exchange, so they run in parallel.

mod amqp;
mod claims;
mod failover;
mod nats;
mod nats_faults;
mod phases;
mod retention;
mod support;
mod webhook_receiver;
mod webhooks;
