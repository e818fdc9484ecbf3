//! Reading the claim statement's database errors: its deliberate abort,
//! races worth retrying, and time zones Postgres does not know.

use std::time::Duration;

/// Attempts before a transient failure is given up on. Each retry follows a
/// short randomised pause, so this bounds the extra latency to tens of ms.
pub const MAX_ATTEMPTS: u32 = 8;

/// SQLSTATE raised by `liveops_claim_abort` (migration 0020).
const ABORT_SQLSTATE: &str = "LC001";

/// The reason `liveops_claim_abort` raised, if that is what `error` is.
pub fn abort_reason(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(ABORT_SQLSTATE) => {
            Some(db.message().to_owned())
        }
        _ => None,
    }
}

/// An event whose `time_zone` Postgres does not know (the operator marks
/// such specs Invalid; this covers rows written before it did).
pub fn is_invalid_time_zone(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("22023"))
}

/// Whether retrying the same statement may succeed: serialization failure,
/// deadlock, or a unique violation from a concurrent twin.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001" | "40P01" | "23505")),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// A short randomised pause, growing with the attempt number, so retries of
/// colliding requests spread out instead of colliding again.
pub async fn pause_before_retry(attempt: u32) {
    let ceiling_ms = 2u64 << attempt.min(5);
    let pause = rand::random_range(1..=ceiling_ms);
    tokio::time::sleep(Duration::from_millis(pause)).await;
}
