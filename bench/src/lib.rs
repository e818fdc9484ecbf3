//! Benchmarks live in `src/bin/`; each prints its figures and a baseline ratio.
//! Shared here: latency percentiles and the claim statement the API sends.
#![forbid(unsafe_code)]

pub mod claim_statement;
pub mod latency;
