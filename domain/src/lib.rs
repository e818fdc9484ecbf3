//! Types shared by the operator and the API server: the condition kinds an
//! Event can require, the claim policy, the database schema's migrator, and
//! the `Secret` wrapper the binaries' configurations use.
#![forbid(unsafe_code)]

pub mod claim_policy;
pub mod condition;
pub mod crd;
pub mod secret;

pub use claim_policy::ClaimFrequency;
pub use condition::{ConditionKind, ConditionSpec};
pub use secret::Secret;

/// Every migration under `migrations/`, embedded at compile time.
///
/// `Migrator::run` takes a Postgres advisory lock for its whole run, so
/// several replicas of either binary can start together safely.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
