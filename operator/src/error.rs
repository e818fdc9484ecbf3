//! The operator's error enum: one for the crate, each variant a distinct cause.

use std::path::PathBuf;

/// Everything that can fail while reconciling or loading resources.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// PostgreSQL refused or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The object lacks metadata the reconcile needs (name, namespace, uid).
    #[error("object has no metadata.{0}")]
    MissingMetadata(&'static str),
    /// Reading the manifests directory failed.
    #[error("reading {path}: {source}")]
    ManifestIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Serialising a status or spec to JSON failed.
    #[error("serialising to JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `Result` with the operator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
