//! Benchmarks live in `src/bin/`; each prints its figures and a baseline ratio.
//! Shared here: latency percentiles, the claim statement the API sends, the
//! claims bench's HTTP load and history ledger, the operator bench's
//! catalogue, runs and baselines, and the relay bench's drain and latency
//! runs.
#![forbid(unsafe_code)]

pub mod claim_statement;
pub mod claims_history;
pub mod claims_load;
pub mod latency;
pub mod operator;
pub mod relay;
pub mod signal_statement;
