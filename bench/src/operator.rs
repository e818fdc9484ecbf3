//! The operator bench (`src/bin/operator_bench.rs`): a catalogue of Events
//! sharing one `startsAt` and their Rewards, through manifests mode and
//! through the cluster controllers, with same-run baselines. The operator
//! runs in a process of its own (`child`, `process`), so that its memory
//! is measured alone.

pub mod baseline;
pub mod catalogue;
pub mod child;
pub mod cluster_run;
pub mod manifests_run;
pub mod measure;
pub mod process;
pub mod report;
