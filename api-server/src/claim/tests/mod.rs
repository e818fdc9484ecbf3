//! Tests of the claim transaction and the condition kinds against a real
//! PostgreSQL, with rows inserted directly (no HTTP).

mod conditions;
mod event_totals;
mod explain;
pub(crate) mod fixtures;
mod idempotency;
mod limits;
mod races;
mod refusals;
mod transaction;
mod windows;
