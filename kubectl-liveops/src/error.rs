//! The plugin's one error type: everything that ends a command with exit 2.

use std::path::PathBuf;

/// Why a command could not run (as opposed to problems it found).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cluster: {0}")]
    Cluster(#[from] kube::Error),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("output: {0}")]
    Output(#[from] serde_json::Error),
}

/// Result with the plugin's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
