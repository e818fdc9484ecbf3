//! The claim count of uncapped events (`events.claims_total`), kept as a
//! copy of the sum of their rewards' `claimed` rather than updated by every
//! claim (issue 14; migration 0036 says why and what stays exact). The
//! operator mirrors it into Event status; this task keeps it at most about
//! [`SYNC_INTERVAL`] behind.

use std::time::Duration;

use sqlx::PgPool;

/// How often the totals are brought up to date.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Writes the totals that moved since the last pass; returns how many
/// events were written. Replicas running it at once write the same values.
pub async fn sync_event_totals(db: &PgPool) -> sqlx::Result<u64> {
    let written = sqlx::query_file!("src/claim/sql/sync_event_totals.sql")
        .execute(db)
        .await?
        .rows_affected();
    Ok(written)
}

/// Runs [`sync_event_totals`] every [`SYNC_INTERVAL`] until the task is
/// dropped; a failed pass (database away) is logged and tried again.
pub async fn run_event_totals(db: PgPool) {
    let mut ticks = tokio::time::interval(SYNC_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = sync_event_totals(&db).await {
            tracing::warn!(%error, "could not bring event claim totals up to date");
        }
    }
}
