//! Recording a batch: the one statement of `sql/record_signals.sql`, retried
//! on deadlocks and serialization failures (nothing of a failed run is
//! kept), and its rows turned into per-signal results or rejections.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::signal::{CheckedBatch, SignalCode, SignalInput, SignalRejection};

/// How often a batch is tried when PostgreSQL aborts it for a deadlock.
const MAX_ATTEMPTS: u32 = 5;

/// What happened to one signal of a recorded batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalStatus {
    /// Counted now.
    Accepted,
    /// Counted before (same counter and id), so not again.
    Duplicate,
    /// `occurredAt` outside the counter's event window: not counted.
    OutsideWindow,
}

impl SignalStatus {
    /// The status as the API and the metric spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalStatus::Accepted => "accepted",
            SignalStatus::Duplicate => "duplicate",
            SignalStatus::OutsideWindow => "outside_window",
        }
    }
}

/// The outcome of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Recorded: one status per posted signal, in posted order.
    Recorded(Vec<SignalStatus>),
    /// Contract errors: nothing recorded.
    Rejected(Vec<SignalRejection>),
    /// A Sum would pass the int8 range: nothing recorded.
    Overflow,
    /// The client was suspended or deleted: nothing recorded.
    ClientGone,
}

/// Records `batch` (the checked form of `posted`) for `client_id`.
pub async fn record_batch(
    db: &PgPool,
    client_id: Uuid,
    posted: &[SignalInput],
    batch: &CheckedBatch,
) -> sqlx::Result<BatchOutcome> {
    let mut attempt = 1;
    loop {
        match run_statement(db, client_id, batch).await {
            Ok(rows) => return Ok(outcome(posted, batch, &rows)),
            // numeric_value_out_of_range: a Sum past int8 (see the statement)
            Err(error) if has_sqlstate(&error, &["22003"]) => return Ok(BatchOutcome::Overflow),
            Err(error) if attempt < MAX_ATTEMPTS && has_sqlstate(&error, &["40P01", "40001"]) => {
                tracing::info!(%error, attempt, "signal batch aborted by a lock conflict; retrying");
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

fn has_sqlstate(error: &sqlx::Error, codes: &[&str]) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| codes.contains(&code.as_ref()))
}

/// One statement row: the signal's position in `batch.distinct` (from 1).
struct Row {
    position: i64,
    error: Option<String>,
    status: String,
    client_ok: bool,
}

async fn run_statement(db: &PgPool, client_id: Uuid, batch: &CheckedBatch) -> sqlx::Result<Vec<Row>> {
    let signals = &batch.distinct;
    let ids: Vec<String> = signals.iter().map(|s| s.id.clone()).collect();
    let users: Vec<Uuid> = signals.iter().map(|s| s.user_id).collect();
    let counters: Vec<String> = signals.iter().map(|s| s.counter.clone()).collect();
    let kinds: Vec<String> = signals.iter().map(|s| s.kind.as_str().to_owned()).collect();
    let amounts: Vec<i64> = signals.iter().map(|s| s.amount).collect();
    let occurred: Vec<chrono::DateTime<chrono::Utc>> = signals.iter().map(|s| s.occurred_at).collect();
    let errors: Vec<String> = signals
        .iter()
        .map(|s| s.error.map(|code| code.as_str().to_owned()).unwrap_or_default())
        .collect();
    let rows = sqlx::query_file!(
        "src/ingest/sql/record_signals.sql",
        client_id,
        &ids,
        &users,
        &counters,
        &kinds,
        &amounts,
        &occurred,
        &errors,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Row {
            position: row.position,
            error: row.error,
            status: row.status,
            client_ok: row.client_ok,
        })
        .collect())
}

fn outcome(posted: &[SignalInput], batch: &CheckedBatch, rows: &[Row]) -> BatchOutcome {
    if rows.iter().any(|row| !row.client_ok) {
        return BatchOutcome::ClientGone;
    }
    let rejections: Vec<SignalRejection> = rows
        .iter()
        .filter_map(|row| {
            let code = row.error.as_deref()?;
            let signal = &batch.distinct[usize::try_from(row.position - 1).ok()?];
            Some(SignalRejection {
                index: signal.index,
                id: posted[signal.index].id.clone(),
                code: SignalCode::from_statement(code).unwrap_or(SignalCode::CounterNotAllowed),
            })
        })
        .collect();
    if !rejections.is_empty() {
        return BatchOutcome::Rejected(rejections);
    }
    let statuses: Vec<SignalStatus> = rows
        .iter()
        .map(|row| match row.status.as_str() {
            "accepted" => SignalStatus::Accepted,
            "outside_window" => SignalStatus::OutsideWindow,
            _ => SignalStatus::Duplicate,
        })
        .collect();
    let per_posted = batch
        .placement
        .iter()
        .map(|&(position, repeat)| {
            let status = statuses.get(position).copied().unwrap_or(SignalStatus::Duplicate);
            // A repeat within the batch counts as the duplicate of its first.
            if repeat && status == SignalStatus::Accepted {
                SignalStatus::Duplicate
            } else {
                status
            }
        })
        .collect();
    BatchOutcome::Recorded(per_posted)
}
