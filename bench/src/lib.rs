//! Benchmarks live in `src/bin/`; each prints its figures and a baseline ratio.
//! Shared here: latency percentiles, the claim statement the API sends, and
//! the operator bench's catalogue, runs and baselines, and the relay bench's
//! drain and latency runs.
#![forbid(unsafe_code)]

pub mod claim_statement;
pub mod latency;
pub mod operator;
pub mod relay;
