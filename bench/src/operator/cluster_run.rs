//! The catalogue through the cluster controllers
//! (`operator::source::cluster::run_controllers`) against the project's
//! in-memory API server (`operator::fake_api`), over a fresh database. The
//! fake server lives in the same process: its objects are in the RSS
//! before the controllers start, so the operator's share is the growth.

use std::{sync::Arc, time::Duration};

use anyhow::ensure;
use chrono::Utc;
use liveops_testkit::TestDb;
use operator::{controller::Context, fake_api::FakeApi, metrics::Metrics, shutdown};
use tokio::time::Instant;

use super::{
    baseline,
    catalogue::{Catalogue, NAMESPACE},
    measure::{claim_every, last_flip_lag_ms, peak_rss_mib, reset_peak, rss_mib, wait_count, wait_for},
    report::Report,
};

const WITHIN: Duration = Duration::from_secs(900);

fn fake_api_with(catalogue: &Catalogue) -> FakeApi {
    let api = FakeApi::default();
    for event in 0..catalogue.events {
        api.put("events", catalogue.event_json(event));
        for reward in 0..catalogue.rewards_per_event {
            api.put("rewards", catalogue.reward_json(event, reward));
        }
    }
    api
}

/// Waits until `wanted` objects of `plural` pass `check`.
async fn wait_objects(
    api: &FakeApi,
    plural: &str,
    wanted: usize,
    check: fn(&serde_json::Value) -> bool,
) -> anyhow::Result<Duration> {
    wait_for(plural, WITHIN, || async move {
        Ok(api.count_where(plural, check) >= wanted)
    })
    .await
}

/// Runs the cluster controllers over `catalogue` served by the fake API.
pub async fn measure(catalogue: &Catalogue) -> anyhow::Result<Report> {
    let baseline_db = TestDb::new().await;
    let baseline = baseline::raw_batched_upserts(&baseline_db.pool, catalogue).await?;
    let raw_flip = baseline::raw_flip(&baseline_db.pool).await?;
    drop(baseline_db);

    let api = fake_api_with(catalogue);
    let db = TestDb::new().await;
    let (events, rewards) = (
        i64::try_from(catalogue.events)?,
        i64::try_from(catalogue.reward_count())?,
    );
    reset_peak();
    let rss_before_mib = rss_mib();
    let began = Instant::now();
    let ctx = Arc::new(Context::new(
        api.client(NAMESPACE),
        db.pool.clone(),
        Metrics::new(),
        "bench".to_owned(),
    ));
    let (trigger, stop) = shutdown::channel();
    let task = tokio::spawn(operator::source::cluster::run_controllers(
        ctx,
        Some(NAMESPACE.to_owned()),
        stop,
    ));
    wait_count(&db.pool, "select count(*) from events", events, WITHIN).await?;
    wait_count(&db.pool, "select count(*) from rewards", rewards, WITHIN).await?;
    let rows = began.elapsed();
    wait_objects(&api, "events", catalogue.events, |e| {
        e["status"]["phase"].is_string()
    })
    .await?;
    wait_objects(&api, "rewards", catalogue.reward_count(), |r| {
        r["status"]["claimed"].is_number()
    })
    .await?;
    let statuses = began.elapsed();
    ensure!(
        Utc::now() < catalogue.starts_at,
        "loading outlasted --lead; raise it"
    );

    wait_count(
        &db.pool,
        "select count(*) from events where phase = 'Active'",
        events,
        WITHIN,
    )
    .await?;
    let flip_lag_ms = last_flip_lag_ms(&db.pool, catalogue.starts_at).await?;
    wait_objects(&api, "events", catalogue.events, |e| {
        e["status"]["phase"] == "Active"
    })
    .await?;
    let status_flip_lag = (Utc::now() - catalogue.starts_at).to_std()?;

    let claimed_at = Instant::now();
    let claimed_rewards = claim_every(&db.pool, 30).await?;
    let wanted = usize::try_from(claimed_rewards)?;
    wait_objects(&api, "rewards", wanted, |r| r["status"]["claimed"] == 1).await?;
    let claims_lag = claimed_at.elapsed();
    let peak_rss_mib = peak_rss_mib();
    trigger.fire();
    task.await?;
    Ok(Report {
        mode: "cluster (fake API server)",
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
