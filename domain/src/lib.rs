//! Types shared by the operator and the API server: the condition kinds an
//! Event can require, the claim policy, and the database schema's migrator.
#![forbid(unsafe_code)]

pub mod claim_policy;
pub mod condition;
pub mod crd;

pub use claim_policy::ClaimFrequency;
pub use condition::{ConditionKind, ConditionSpec};

/// Every migration under `migrations/`, embedded at compile time.
///
/// `Migrator::run` takes a Postgres advisory lock for its whole run, so
/// several replicas of either binary can start together safely.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
