//! Reward requirements and progress against a real PostgreSQL, with
//! counters and their values inserted as rows (the ingestion that feeds
//! them is tested on its own).

mod fixtures;
mod progress;
mod requirements;
