//! API integration tests: one binary, one module per resource. Each test
//! gets its own database and its own server on 127.0.0.1:0.

mod claims;
mod claims_fixtures;
mod claims_history;
mod claims_races;
mod events;
mod health;
mod rewards;
mod support;
