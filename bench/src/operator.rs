//! The operator bench (`src/bin/operator_bench.rs`): a catalogue of Events
//! sharing one `startsAt` and their Rewards, through manifests mode and
//! through the cluster controllers, with same-run baselines.

pub mod baseline;
pub mod catalogue;
pub mod cluster_run;
pub mod manifests_run;
pub mod measure;
pub mod report;
