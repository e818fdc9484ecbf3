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
    /// Serialising or parsing YAML failed.
    #[error("YAML: {0}")]
    Yaml(String),
    /// Serialising a status or spec to JSON failed.
    #[error("serialising to JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The Kubernetes API refused a request or could not be reached.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// Adding or removing the finalizer, or the reconcile it wraps, failed.
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    /// Leader election through the Lease failed.
    #[error("leader election: {0}")]
    LeaderElection(String),
}

/// `Result` with the operator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
