//! The relay's error type. Broker failures live in
//! [`TransportError`](crate::transport::TransportError): they are retried
//! forever and never end the process.

/// What can stop a leadership term or the start-up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query failed or the connection broke.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A query took longer than the relay waits (a half-open connection).
    #[error("database: no answer within {0:?}")]
    DatabaseTimeout(std::time::Duration),
    /// Applying migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Settings that parse but cannot work together.
    #[error("configuration: {0}")]
    Config(String),
    /// Reading or writing the event schema files.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// `Result` with the relay's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
