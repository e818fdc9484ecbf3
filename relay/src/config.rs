//! Command line and environment configuration (DESIGN.md, "Second stage" ->
//! "Event bus"). Every flag mirrors an environment variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};

/// `relay [serve]` or `relay event-schemas [--write DIR]`.
#[derive(Debug, Parser)]
#[command(name = "relay", version, about = "liveops outbox relay")]
pub struct Cli {
    /// What to do; relaying is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of the relay.
    #[command(flatten)]
    pub config: Config,
}

/// The binary's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Relay the outbox (the default).
    Serve,
    /// Print the JSON Schemas of the events' `data`, or write them to DIR.
    EventSchemas {
        /// Directory to write `<type>.schema.json` files into.
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

/// Where events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// No broker: rows are marked published without being sent, so the
    /// outbox stays bounded where nothing consumes events.
    None,
    /// NATS JetStream (`NATS_URL`).
    Nats,
    /// RabbitMQ (`AMQP_URL`).
    Amqp,
}

/// CloudEvents content mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CeMode {
    /// Attributes in headers, body = `data`.
    Binary,
    /// The whole event as one `application/cloudevents+json` body.
    Structured,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings of the relay.
#[derive(Debug, Clone, Parser)]
pub struct Config {
    /// PostgreSQL connection URL (required to relay; optional to clap so
    /// that `event-schemas` runs without one).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,
    /// Where events go.
    #[arg(long, env = "RELAY_TRANSPORT", value_enum, default_value_t = TransportKind::None)]
    pub transport: TransportKind,
    /// NATS server URL (JetStream enabled), e.g. nats://user:pass@nats:4222.
    #[arg(long, env = "NATS_URL", hide_env_values = true)]
    pub nats_url: Option<Secret>,
    /// JetStream stream, created when missing with subjects `<prefix>.>`.
    #[arg(long, env = "NATS_STREAM", default_value = "LIVEOPS")]
    pub nats_stream: String,
    /// RabbitMQ URL, e.g. amqp://user:pass@rabbitmq:5672/%2f.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<Secret>,
    /// Durable topic exchange events are published to.
    #[arg(long, env = "AMQP_EXCHANGE", default_value = "liveops")]
    pub amqp_exchange: String,
    /// First token of every NATS subject and AMQP routing key; lets several
    /// installations share one broker.
    #[arg(long, env = "RELAY_SUBJECT_PREFIX", default_value = "liveops")]
    pub subject_prefix: String,
    /// CloudEvents content mode.
    #[arg(long, env = "RELAY_CE_MODE", value_enum, default_value_t = CeMode::Binary)]
    pub ce_mode: CeMode,
    /// Address of /healthz, /readyz and /metrics.
    #[arg(long, env = "RELAY_LISTEN_ADDR", default_value = "0.0.0.0:8082")]
    pub listen_addr: SocketAddr,
    /// Rows published per round trip.
    #[arg(long, env = "RELAY_BATCH_SIZE", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Pause between polls when the outbox is empty, in milliseconds.
    #[arg(long, env = "RELAY_POLL_INTERVAL_MS", default_value_t = 50)]
    pub poll_interval_ms: u64,
    /// Refusals by the broker after which a row moves to outbox_dead_letters.
    #[arg(long, env = "RELAY_MAX_ATTEMPTS", default_value_t = 10,
          value_parser = clap::value_parser!(i32).range(1..))]
    pub max_attempts: i32,
    /// How long published rows are kept before deletion, in seconds. 0, the
    /// default: deleted as soon as the broker acknowledges them instead of
    /// marked, the cheapest write per row (the broker's stream is the
    /// record of what was published; the outbox is the queue to it).
    #[arg(long, env = "RELAY_RETENTION_SECONDS", default_value_t = 0)]
    pub retention_seconds: u64,
    /// How long a publish waits for the broker's acknowledgement, in ms.
    #[arg(long, env = "RELAY_ACK_TIMEOUT_MS", default_value_t = 10_000)]
    pub ack_timeout_ms: u64,
    /// Longest pause between reconnection attempts, in milliseconds.
    #[arg(long, env = "RELAY_BACKOFF_MAX_MS", default_value_t = 30_000)]
    pub backoff_max_ms: u64,
    /// How often a standby tries to take the leader's lock, in milliseconds.
    #[arg(long, env = "RELAY_STANDBY_POLL_MS", default_value_t = 1_000)]
    pub standby_poll_ms: u64,
    /// Webhook requests in flight at once.
    #[arg(long, env = "RELAY_WEBHOOK_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub webhook_concurrency: u32,
    /// How long one webhook request may take, connection included, in ms.
    #[arg(long, env = "RELAY_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Failed attempts after which a webhook delivery is given up.
    #[arg(long, env = "RELAY_WEBHOOK_MAX_ATTEMPTS", default_value_t = 12,
          value_parser = clap::value_parser!(i32).range(1..))]
    pub webhook_max_attempts: i32,
    /// First pause before retrying a webhook, in ms; doubles per failure.
    #[arg(long, env = "RELAY_WEBHOOK_RETRY_INITIAL_MS", default_value_t = 5_000)]
    pub webhook_retry_initial_ms: u64,
    /// Longest pause between webhook retries (and longest `Retry-After`
    /// honoured), in ms.
    #[arg(long, env = "RELAY_WEBHOOK_RETRY_MAX_MS", default_value_t = 3_600_000)]
    pub webhook_retry_max_ms: u64,
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// Checks what clap cannot: the URLs relaying needs are set.
    pub fn validate(&self) -> Result<()> {
        match self.transport {
            _ if self.database_url.is_none() => Err(Error::Config("DATABASE_URL is not set".to_owned())),
            TransportKind::Nats if self.nats_url.is_none() => {
                Err(Error::Config("RELAY_TRANSPORT=nats needs NATS_URL".to_owned()))
            }
            TransportKind::Amqp if self.amqp_url.is_none() => {
                Err(Error::Config("RELAY_TRANSPORT=amqp needs AMQP_URL".to_owned()))
            }
            _ if !is_subject_token(&self.subject_prefix) => Err(Error::Config(format!(
                "RELAY_SUBJECT_PREFIX {:?} must be one token of letters, digits, '-' or '_'",
                self.subject_prefix
            ))),
            _ => Ok(()),
        }
    }

    /// DATABASE_URL, empty when unset ([`Config::validate`] refuses that).
    pub fn database_url(&self) -> &str {
        self.database_url.as_ref().map(Secret::expose).unwrap_or_default()
    }

    /// The broker acknowledgement deadline.
    pub fn ack_timeout(&self) -> Duration {
        Duration::from_millis(self.ack_timeout_ms)
    }
}

/// Whether `token` is safe as one NATS subject token and AMQP routing key
/// word: no separators or wildcards.
pub fn is_subject_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Configuration secrets: `Debug` prints `[redacted]`.
pub use liveops_domain::Secret;

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{CeMode, Cli, TransportKind};

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["relay", "--database-url", "postgres://x/y"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("arguments parse")
    }

    #[test]
    fn defaults_match_the_design() {
        let config = parse(&[]).config;
        assert_eq!(config.transport, TransportKind::None);
        assert_eq!(config.nats_stream, "LIVEOPS");
        assert_eq!(config.amqp_exchange, "liveops");
        assert_eq!(config.subject_prefix, "liveops");
        assert_eq!(config.ce_mode, CeMode::Binary);
        assert_eq!(config.listen_addr.to_string(), "0.0.0.0:8082");
        assert!(config.validate().is_ok());
    }

    #[test]
    fn a_transport_without_its_url_is_refused_with_the_variable_named() {
        // Cleared explicitly: the test command exports both URLs.
        let mut nats = parse(&["--transport", "nats"]).config;
        nats.nats_url = None;
        let error = nats.validate().expect_err("no NATS_URL");
        assert!(error.to_string().contains("NATS_URL"));
        let mut amqp = parse(&["--transport", "amqp"]).config;
        amqp.amqp_url = None;
        let error = amqp.validate().expect_err("no AMQP_URL");
        assert!(error.to_string().contains("AMQP_URL"));
    }

    #[test]
    fn a_subject_prefix_with_a_wildcard_is_refused() {
        assert!(parse(&["--subject-prefix", "a.>"]).config.validate().is_err());
    }

    #[test]
    fn debug_output_redacts_urls() {
        let cli = parse(&["--nats-url", "nats://user:hunter2@nats:4222"]);
        let printed = format!("{:?}", cli.config);
        assert!(!printed.contains("hunter2") && !printed.contains("postgres://x/y"));
    }
}
