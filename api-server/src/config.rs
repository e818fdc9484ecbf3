//! Command line and environment configuration (DESIGN.md, "Interfaces that
//! scripts and operators rely on"). Every flag mirrors an environment variable.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};

/// The smallest HS256 secret accepted: 256 bits (RFC 7518 section 3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// `api-server [serve]` or `api-server create-admin --email --password`.
#[derive(Debug, Parser)]
#[command(name = "api-server", version, about = "liveops REST API server")]
pub struct Cli {
    /// What to do; serving the API is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
}

/// The binary's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (the default).
    Serve,
    /// Create an ADMIN account (idempotent: an existing ADMIN is left alone).
    CreateAdmin {
        /// The admin's email address.
        #[arg(long, env = "ADMIN_EMAIL")]
        email: String,
        /// The admin's password (8..128 characters).
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: Secret,
    },
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings of the API server.
#[derive(Debug, Clone, Parser)]
pub struct Config {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Secret,
    /// HS256 signing secret for access tokens, at least 32 bytes.
    /// Optional to clap only so that its absence gets a clear message.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// `kid` header of tokens signed with JWT_SECRET.
    #[arg(long, env = "JWT_KEY_ID", default_value = "primary")]
    pub jwt_key_id: String,
    /// The previous signing secret, still accepted for verification while
    /// tokens signed with it live out their 15 minutes (key rotation).
    #[arg(long, env = "JWT_PREVIOUS_SECRET", hide_env_values = true)]
    pub jwt_previous_secret: Option<Secret>,
    /// `kid` of tokens signed with JWT_PREVIOUS_SECRET.
    #[arg(long, env = "JWT_PREVIOUS_KEY_ID", default_value = "previous")]
    pub jwt_previous_key_id: String,
    /// `iss` claim written and required.
    #[arg(long, env = "JWT_ISSUER", default_value = "liveops-api-server")]
    pub jwt_issuer: String,
    /// `aud` claim written and required.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "liveops")]
    pub jwt_audience: String,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900)]
    pub access_token_ttl_seconds: u64,
    /// Lifetime of a refresh token, in seconds (default 30 days).
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECONDS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_seconds: u64,
    /// Seconds after a rotation during which the parent of the live refresh
    /// token may still be presented (two tabs refreshing at once) without
    /// counting as reuse.
    #[arg(long, env = "REFRESH_REUSE_GRACE_SECONDS", default_value_t = 10)]
    pub refresh_reuse_grace_seconds: u64,
    /// Address of the public API.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,
    /// Address of the Prometheus `/metrics` listener, kept off the public
    /// API port so that scraping needs no route through the ingress.
    #[arg(long, env = "METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,
    /// Longest a request may run, in seconds; past it the client gets 503
    /// TIMEOUT (and a claim cut short commits nothing or, when its one
    /// statement already committed, is answered again by its Idempotency-Key).
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub request_timeout_seconds: u32,
    /// Email of the ADMIN created at start-up when absent.
    #[arg(long, env = "ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of that ADMIN.
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
    /// Login attempts per minute, per client address and per email; 0 = off.
    #[arg(long, env = "RATE_LIMIT_LOGIN_PER_MINUTE", default_value_t = 10)]
    pub rate_limit_login_per_minute: u32,
    /// Signups per minute, per client address and per email; 0 = off.
    #[arg(long, env = "RATE_LIMIT_SIGNUP_PER_MINUTE", default_value_t = 5)]
    pub rate_limit_signup_per_minute: u32,
    /// Claim attempts per minute, per user; over it 429 RATE_LIMITED and no
    /// ledger row; 0 = off.
    #[arg(long, env = "RATE_LIMIT_CLAIMS_PER_MINUTE", default_value_t = 60)]
    pub rate_limit_claims_per_minute: u32,
    /// How long an Idempotency-Key answers with the claim it was first used
    /// for, in seconds; afterwards the key is forgotten and may be reused.
    #[arg(long, env = "IDEMPOTENCY_KEY_TTL_SECONDS", default_value_t = 24 * 60 * 60,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub idempotency_key_ttl_seconds: u32,
    /// Take the client address from X-Forwarded-For: of every entry on
    /// every header line, the rightmost that is not in TRUSTED_PROXIES (the
    /// address the outermost trusted proxy saw). Only behind such a proxy:
    /// otherwise clients pick their own rate-limit bucket.
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Comma-separated CIDR blocks of the proxies in front (e.g. the ingress
    /// pods' network) whose X-Forwarded-For entries are skipped.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: CidrList,
    /// Verification and recovery mails, per client address and per account
    /// or email, per minute; 0 = off.
    #[arg(long, env = "RATE_LIMIT_MAIL_PER_MINUTE", default_value_t = 3)]
    pub rate_limit_mail_per_minute: u32,
    /// SMTP server for account mail: `smtp://user:pass@host:port` (STARTTLS
    /// when offered; `?tls=required` to insist) or `smtps://...` (TLS from
    /// the start). Unset: mails, with their links, are written to the log.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,
    /// The From of account mail.
    #[arg(long, env = "MAIL_FROM", default_value = "liveops <no-reply@liveops.invalid>")]
    pub mail_from: String,
    /// Base of the links in mails, as users reach this API.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: url::Url,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Database connections per replica.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Game-server client tokens and `POST /signals`.
    #[command(flatten)]
    pub ingest: IngestConfig,
}

/// Settings of game-server ingestion (DESIGN.md, "Challenges"): client
/// tokens from `POST /oauth/token` and the signals `POST /signals` accepts.
#[derive(Debug, Clone, Parser)]
pub struct IngestConfig {
    /// `aud` of client tokens; must differ from JWT_AUDIENCE (user tokens).
    #[arg(long, env = "INGEST_TOKEN_AUDIENCE", default_value = "liveops-ingest")]
    pub ingest_token_audience: String,
    /// Lifetime of a client token, in seconds.
    #[arg(long, env = "INGEST_TOKEN_TTL_SECONDS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ingest_token_ttl_seconds: u64,
    /// Failed `POST /oauth/token` attempts per minute per client address; 0 = off.
    #[arg(long, env = "RATE_LIMIT_TOKEN_FAILURES_PER_MINUTE", default_value_t = 10)]
    pub rate_limit_token_failures_per_minute: u32,
    /// How far in the future (server clock) a signal's `occurredAt` may be.
    #[arg(long, env = "SIGNAL_FUTURE_SKEW_SECONDS", default_value_t = 300)]
    pub signal_future_skew_seconds: u32,
    /// How old a signal's `occurredAt` may be.
    #[arg(long, env = "SIGNAL_ACCEPTANCE_WINDOW_SECONDS", default_value_t = 604_800)]
    pub signal_acceptance_window_seconds: u32,
}

impl Default for IngestConfig {
    /// The documented defaults (the same as clap's).
    fn default() -> Self {
        Self {
            ingest_token_audience: "liveops-ingest".to_owned(),
            ingest_token_ttl_seconds: 900,
            rate_limit_token_failures_per_minute: 10,
            signal_future_skew_seconds: 300,
            signal_acceptance_window_seconds: 604_800,
        }
    }
}

/// Configuration that parses but cannot be served with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// JWT_SECRET is not set.
    #[error("JWT_SECRET is not set: set it to a random secret of at least {MIN_JWT_SECRET_BYTES} bytes")]
    MissingJwtSecret,
    /// JWT_SECRET (or JWT_PREVIOUS_SECRET) is too short for HS256.
    #[error(
        "{name} is {len} bytes long; HS256 needs at least {MIN_JWT_SECRET_BYTES} \
         (generate one with `openssl rand -base64 48`)"
    )]
    WeakJwtSecret {
        /// Which variable.
        name: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// Only one of ADMIN_EMAIL and ADMIN_PASSWORD is set.
    #[error("ADMIN_EMAIL and ADMIN_PASSWORD must be set together")]
    HalfAdminPair,
    /// PUBLIC_URL cannot be the base of a link.
    #[error("PUBLIC_URL must be an absolute http(s) URL, such as https://api.example.com")]
    BadPublicUrl,
    /// Client and user tokens would share an audience.
    #[error("INGEST_TOKEN_AUDIENCE must differ from JWT_AUDIENCE")]
    SharedTokenAudience,
}

impl Config {
    /// Checks what clap cannot: secret strength and paired settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let secret = self.jwt_secret.as_ref().ok_or(ConfigError::MissingJwtSecret)?;
        check_secret_length("JWT_SECRET", secret)?;
        if let Some(previous) = &self.jwt_previous_secret {
            check_secret_length("JWT_PREVIOUS_SECRET", previous)?;
        }
        if self.admin_email.is_some() != self.admin_password.is_some() {
            return Err(ConfigError::HalfAdminPair);
        }
        if !matches!(self.public_url.scheme(), "http" | "https") || self.public_url.cannot_be_a_base() {
            return Err(ConfigError::BadPublicUrl);
        }
        if self.ingest.ingest_token_audience == self.jwt_audience {
            return Err(ConfigError::SharedTokenAudience);
        }
        Ok(())
    }
}

fn check_secret_length(name: &'static str, secret: &Secret) -> Result<(), ConfigError> {
    let len = secret.expose().len();
    if len < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::WeakJwtSecret { name, len });
    }
    Ok(())
}

/// A comma-separated list of CIDR blocks; empty (or blank) is no block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrList(pub Vec<ipnet::IpNet>);

impl std::str::FromStr for CidrList {
    type Err = ipnet::AddrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|block| !block.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// Configuration secrets: `Debug` prints `[redacted]`.
pub use liveops_domain::Secret;

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, ConfigError, Secret};

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["api-server", "--database-url", "postgres://x/y"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("arguments parse")
    }

    #[test]
    fn a_missing_jwt_secret_refuses_to_start_with_a_clear_message() {
        let cli = parse(&[]);
        let error = cli.config.validate().expect_err("must refuse");
        assert_eq!(error, ConfigError::MissingJwtSecret);
        assert!(error.to_string().contains("JWT_SECRET is not set"));
    }

    #[test]
    fn a_jwt_secret_shorter_than_32_bytes_refuses_to_start() {
        let cli = parse(&["--jwt-secret", "0123456789abcdef0123456789abcde"]);
        let error = cli.config.validate().expect_err("31 bytes must be refused");
        assert_eq!(
            error,
            ConfigError::WeakJwtSecret {
                name: "JWT_SECRET",
                len: 31
            }
        );
        assert!(error.to_string().contains("at least 32"));
    }

    #[test]
    fn a_32_byte_jwt_secret_is_accepted() {
        let cli = parse(&["--jwt-secret", "0123456789abcdef0123456789abcdef"]);
        assert_eq!(cli.config.validate(), Ok(()));
    }

    #[test]
    fn an_admin_email_without_a_password_is_refused() {
        let cli = parse(&[
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
            "--admin-email",
            "a@b.co",
        ]);
        assert_eq!(cli.config.validate(), Err(ConfigError::HalfAdminPair));
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let cli = parse(&["--jwt-secret", "0123456789abcdef0123456789abcdef-very-secret"]);
        let printed = format!("{:?}", cli.config);
        assert!(!printed.contains("very-secret"));
        assert!(!printed.contains("postgres://x/y"));
        assert_eq!(format!("{:?}", Secret::new("pw")), "[redacted]");
    }

    #[test]
    fn serving_is_the_default_and_create_admin_is_a_subcommand() {
        assert!(parse(&[]).command.is_none());
        let cli = parse(&[
            "create-admin",
            "--email",
            "root@example.com",
            "--password",
            "longenough",
        ]);
        assert!(
            matches!(cli.command, Some(Command::CreateAdmin { ref email, .. }) if email == "root@example.com")
        );
    }

    #[test]
    fn ingest_defaults_are_the_documented_ones() {
        let parsed = parse(&[]).config.ingest;
        let documented = super::IngestConfig::default();
        assert_eq!(parsed.ingest_token_audience, documented.ingest_token_audience);
        assert_eq!(parsed.ingest_token_ttl_seconds, 900);
        assert_eq!(parsed.signal_future_skew_seconds, 300);
        assert_eq!(parsed.signal_acceptance_window_seconds, 604_800);
        assert_eq!(parsed.rate_limit_token_failures_per_minute, 10);
    }

    #[test]
    fn defaults_match_the_design() {
        let config = parse(&[]).config;
        assert_eq!(config.listen_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(config.access_token_ttl_seconds, 900);
        assert_eq!(config.max_body_bytes, 65536);
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(config.smtp_url.is_none() && config.trusted_proxies.0.is_empty());
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list_of_cidr_blocks() {
        let config = parse(&["--trusted-proxies", "10.0.0.0/8,fd00::/8"]).config;
        let blocks: Vec<String> = config.trusted_proxies.0.iter().map(ToString::to_string).collect();
        assert_eq!(blocks, ["10.0.0.0/8", "fd00::/8"]);
        assert!(
            parse(&["--trusted-proxies", " "])
                .config
                .trusted_proxies
                .0
                .is_empty()
        );
        let cli = Cli::try_parse_from([
            "api-server",
            "--database-url",
            "x",
            "--trusted-proxies",
            "10.0.0.1",
        ]);
        assert!(cli.is_err(), "a bare address is not a CIDR block");
    }
}
