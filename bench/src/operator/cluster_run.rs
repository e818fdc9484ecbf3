//! The catalogue through the cluster controllers
//! (`operator::source::cluster::run_controllers`) against the project's
//! in-memory API server (`operator::fake_api`), over a fresh database. The
//! fake server runs in this process, serving HTTP on a local port; the
//! controllers run in a process of their own (see `child`), so its memory
//! is theirs alone, and they pay HTTP and JSON per request as against a
//! real API server.

use std::time::Duration;

use anyhow::ensure;
use chrono::Utc;
use liveops_testkit::TestDb;
use operator::fake_api::FakeApi;
use tokio::{net::TcpListener, sync::oneshot, time::Instant};

use super::{
    baseline,
    catalogue::Catalogue,
    measure::{claim_every, last_flip_lag_ms, wait_count},
    process::OperatorProcess,
    report::Report,
};

const WITHIN: Duration = Duration::from_secs(900);
/// How often the fake server's objects are counted: each count scans all
/// 40,000 under the lock the server answers with, so not every 10 ms.
const POLL: Duration = Duration::from_millis(50);

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
    let began = Instant::now();
    while api.count_where(plural, check) < wanted {
        ensure!(began.elapsed() < WITHIN, "timed out waiting for {plural}");
        tokio::time::sleep(POLL).await;
    }
    Ok(began.elapsed())
}

/// Runs the cluster controllers over `catalogue` served by the fake API.
pub async fn measure(catalogue: &Catalogue) -> anyhow::Result<Report> {
    let baseline_db = TestDb::new().await;
    let baseline = baseline::raw_batched_upserts(&baseline_db.pool, catalogue).await?;
    let raw_flip = baseline::raw_flip(&baseline_db.pool).await?;
    drop(baseline_db);

    let api = fake_api_with(catalogue);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop_server, server_stopped) = oneshot::channel::<()>();
    let served = api.clone();
    let server = tokio::spawn(async move {
        served
            .serve(listener, async move {
                let _ = server_stopped.await;
            })
            .await
    });
    let db = TestDb::new().await;
    let (events, rewards) = (
        i64::try_from(catalogue.events)?,
        i64::try_from(catalogue.reward_count())?,
    );
    let args = [
        "--child".to_owned(),
        "cluster".to_owned(),
        "--api".to_owned(),
        url,
        "--database-url".to_owned(),
        db.url.clone(),
    ];
    let operator = OperatorProcess::start(&args).await?;
    let began = Instant::now();
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
    let peak_rss_mib = operator.peak_rss_mib();
    let rss_before_mib = operator.rss_before_mib;
    operator.stop().await?;
    let _ = stop_server.send(());
    server.await??;
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
