//! The catalogue through `operator::source::manifests::run` (what
//! `operator --manifests DIR` runs), in a process of its own, over a fresh
//! database.

use std::{path::Path, time::Duration};

use anyhow::ensure;
use chrono::Utc;
use liveops_testkit::TestDb;
use tokio::time::Instant;

use super::{
    baseline,
    catalogue::Catalogue,
    measure::{claim_every, count, last_flip_lag_ms, wait_count},
    process::OperatorProcess,
    report::Report,
};

/// Every wait's deadline: generous, the figures are the point.
const WITHIN: Duration = Duration::from_secs(600);

/// Runs manifests mode over `catalogue` written to `work`.
pub async fn measure(catalogue: &Catalogue, per_file: usize, work: &Path) -> anyhow::Result<Report> {
    let baseline_db = TestDb::new().await;
    let baseline = baseline::raw_batched_upserts(&baseline_db.pool, catalogue).await?;
    let raw_flip = baseline::raw_flip(&baseline_db.pool).await?;
    drop(baseline_db);

    let dir = work.join("manifests");
    catalogue.write_yaml(&dir, per_file)?;
    let db = TestDb::new().await;
    let (events, rewards) = (
        i64::try_from(catalogue.events)?,
        i64::try_from(catalogue.reward_count())?,
    );
    let args = [
        "--child".to_owned(),
        "manifests".to_owned(),
        "--dir".to_owned(),
        dir.display().to_string(),
        "--database-url".to_owned(),
        db.url.clone(),
    ];
    let operator = OperatorProcess::start(&args).await?;
    let began = Instant::now();
    wait_count(&db.pool, "select count(*) from events", events, WITHIN).await?;
    wait_count(&db.pool, "select count(*) from rewards", rewards, WITHIN).await?;
    let rows = began.elapsed();
    wait_count(
        &db.pool,
        "select count(*) from resource_status",
        events + rewards,
        WITHIN,
    )
    .await?;
    let statuses = began.elapsed();
    ensure!(
        Utc::now() < catalogue.starts_at,
        "loading outlasted --lead; raise it"
    );

    let active = "select count(*) from events where phase = 'Active'";
    wait_count(&db.pool, active, events, WITHIN).await?;
    let flip_lag_ms = last_flip_lag_ms(&db.pool, catalogue.starts_at).await?;
    let shown = "select count(*) from resource_status where kind = 'Event' and status->>'phase' = 'Active'";
    wait_count(&db.pool, shown, events, WITHIN).await?;
    let status_flip_lag = (Utc::now() - catalogue.starts_at).to_std()?;

    let claimed_at = Instant::now();
    let claimed_rewards = claim_every(&db.pool, 30).await?;
    let mirrored = "select count(*) from resource_status where kind = 'Reward' and status->>'claimed' = '1'";
    wait_count(&db.pool, mirrored, claimed_rewards, WITHIN).await?;
    let claims_lag = claimed_at.elapsed();
    let peak_rss_mib = operator.peak_rss_mib();
    let rss_before_mib = operator.rss_before_mib;
    operator.stop().await?;
    ensure!(
        count(&db.pool, active).await? == events,
        "every event stays Active"
    );
    Ok(Report {
        mode: "manifests",
        events: catalogue.events,
        rewards: catalogue.reward_count(),
        rows,
        statuses,
        baseline,
        flip_lag_ms,
        status_flip_lag,
        raw_flip,
        claims_lag,
        claimed_rewards,
        rss_before_mib,
        peak_rss_mib,
    })
}
