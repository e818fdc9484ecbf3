//! The `kubectl liveops` plugin: `validate` a manifests directory offline,
//! `status` of events and their stock, `explain-claim` for one user and
//! reward (README, "kubectl liveops").
#![forbid(unsafe_code)]

pub mod cli;
pub mod countdown;
pub mod error;
pub mod explain;
pub mod status;
pub mod validate;

pub use cli::{Cli, Command, run};
pub use error::{Error, Result};

/// How a command ended, as its exit code: 0 clean, 1 problems found (or the
/// claim would be refused), 2 usage or I/O errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    Problems,
    Usage,
}

impl From<Verdict> for std::process::ExitCode {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Clean => Self::SUCCESS,
            Verdict::Problems => Self::from(1),
            Verdict::Usage => Self::from(2),
        }
    }
}
