//! `operator_bench`: manifests-mode figures next to a same-run baseline.
//!
//! 1. Reconcile throughput: 10,000 Events written as YAML files, loaded by
//!    `operator::source::manifests::run` until every row and status is in
//!    Postgres; baseline: the same rows upserted by raw SQL at the same
//!    concurrency. Peak memory is the process's VmHWM.
//! 2. Transition lag: many Events starting and ending a few seconds ahead;
//!    lag = `events.updated_at` of the phase write minus the boundary;
//!    baseline: a bare tokio timer per boundary running one raw UPDATE.
//!
//! Run by hand (needs PostgreSQL at DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres):
//! `cargo run --release -p liveops-bench --bin operator_bench`

use std::{path::Path, time::Duration};

use anyhow::{Context, ensure};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Parser;
use futures::{StreamExt, stream};
use liveops_bench::latency::Latencies;
use liveops_testkit::TestDb;
use sqlx::PgPool;
use tokio::{sync::oneshot, time::Instant};

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// Events for the throughput run.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Events per YAML file (multi-document files).
    #[arg(long, default_value_t = 100)]
    per_file: usize,
    /// Events for the transition-lag run.
    #[arg(long, default_value_t = 500)]
    lag_events: usize,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An Event; windows of at least a week carry a 7-day streak condition,
/// so the time-zone-aware streak check runs too.
fn event_yaml(name: &str, starts: DateTime<Utc>, ends: DateTime<Utc>) -> String {
    let condition = if ends - starts >= chrono::Duration::days(7) {
        "  condition:\n    loginStreak:\n      days: 7\n"
    } else {
        ""
    };
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: {name}\nspec:\n  displayName: {name}\n  \
         startsAt: \"{}\"\n  endsAt: \"{}\"\n  timeZone: Asia/Seoul\n{condition}",
        rfc3339(starts),
        rfc3339(ends)
    )
}

fn write_events(
    dir: &Path,
    names: &[(String, DateTime<Utc>, DateTime<Utc>)],
    per_file: usize,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (index, chunk) in names.chunks(per_file.max(1)).enumerate() {
        let text: Vec<String> = chunk
            .iter()
            .map(|(name, s, e)| event_yaml(name, *s, *e))
            .collect();
        std::fs::write(dir.join(format!("events-{index:04}.yaml")), text.join("---\n"))?;
    }
    Ok(())
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn count(db: &PgPool, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(db).await?)
}

async fn wait_until(db: &PgPool, sql: &'static str, wanted: i64, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while count(db, sql).await? < wanted {
        ensure!(
            Instant::now() < deadline,
            "timed out waiting for {wanted} from {sql}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Starts manifests mode over `dir`; the sender stops it.
fn start_operator(
    dir: &Path,
    db: &PgPool,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<operator::error::Result<()>>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(operator::source::manifests::run(
        dir.to_path_buf(),
        db.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    (stop, task)
}

async fn throughput(options: &Options, work: &Path) -> anyhow::Result<()> {
    let db = TestDb::new().await;
    let starts = Utc::now() + chrono::Duration::days(1);
    let events: Vec<_> = (0..options.events)
        .map(|i| {
            (
                format!("bench-{i:05}"),
                starts,
                starts + chrono::Duration::days(30),
            )
        })
        .collect();
    let dir = work.join("throughput");
    write_events(&dir, &events, options.per_file)?;
    let rss_before = peak_rss_kib();

    let began = Instant::now();
    let (stop, task) = start_operator(&dir, &db.pool);
    let n = i64::try_from(options.events)?;
    wait_until(
        &db.pool,
        "select count(*) from events",
        n,
        Duration::from_secs(600),
    )
    .await?;
    let rows_at = began.elapsed();
    wait_until(
        &db.pool,
        "select count(*) from resource_status",
        n,
        Duration::from_secs(600),
    )
    .await?;
    let operator_time = began.elapsed();
    let rss_after = peak_rss_kib();
    let _ = stop.send(());
    task.await?.context("manifests mode")?;

    // Baseline: the same rows, one raw upsert each, 16 at a time (the
    // operator's concurrency), into a fresh database.
    let baseline_db = TestDb::new().await;
    let began = Instant::now();
    let pool = &baseline_db.pool;
    let results: Vec<Result<_, sqlx::Error>> = stream::iter(&events)
        .map(|(name, s, e)| async move {
            sqlx::query(
                "insert into events (id, namespace, name, display_name, starts_at, ends_at, time_zone,
                                     condition, phase, generation)
                 values (gen_random_uuid(), 'default', $1, $1, $2, $3, 'Asia/Seoul',
                         '{\"loginStreak\":{\"days\":7}}', 'Scheduled', 1)
                 on conflict (id) do nothing",
            )
            .bind(name)
            .bind(s)
            .bind(e)
            .execute(pool)
            .await
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result?;
    }
    let baseline_time = began.elapsed();

    let per_sec = |elapsed: Duration| options.events as f64 / elapsed.as_secs_f64();
    println!(
        "reconcile throughput, {} Events in {} files",
        options.events,
        events.len().div_ceil(options.per_file)
    );
    println!(
        "  operator (parse + validate + upsert + status): {:>8.0} events/s  ({:.2} s; rows in {:.2} s)",
        per_sec(operator_time),
        operator_time.as_secs_f64(),
        rows_at.as_secs_f64()
    );
    println!(
        "  baseline (raw SQL upsert, same concurrency):   {:>8.0} events/s  ({:.2} s)",
        per_sec(baseline_time),
        baseline_time.as_secs_f64()
    );
    println!(
        "  ratio operator/baseline: {:.2}",
        per_sec(operator_time) / per_sec(baseline_time)
    );
    println!(
        "  peak RSS (VmHWM): {} MiB before, {} MiB after loading",
        rss_before / 1024,
        rss_after / 1024
    );
    Ok(())
}

async fn lag(options: &Options, work: &Path) -> anyhow::Result<()> {
    let db = TestDb::new().await;
    let origin = Utc::now() + chrono::Duration::seconds(3);
    let spread_ms = 1_000;
    let n = options.lag_events.max(1);
    let events: Vec<_> = (0..n)
        .map(|i| {
            let starts = origin + chrono::Duration::milliseconds((i * spread_ms / n) as i64);
            (
                format!("lag-{i:05}"),
                starts,
                starts + chrono::Duration::seconds(3),
            )
        })
        .collect();
    let dir = work.join("lag");
    write_events(&dir, &events, options.per_file)?;
    let (stop, task) = start_operator(&dir, &db.pool);

    // Baseline: one bare timer per boundary doing one raw UPDATE.
    sqlx::query(
        "create table lag_baseline (id int primary key, boundary timestamptz not null, written timestamptz)",
    )
    .execute(&db.pool)
    .await?;
    let boundaries: Vec<DateTime<Utc>> = events.iter().flat_map(|(_, s, e)| [*s, *e]).collect();
    for (id, boundary) in boundaries.iter().enumerate() {
        sqlx::query("insert into lag_baseline (id, boundary) values ($1, $2)")
            .bind(i32::try_from(id)?)
            .bind(boundary)
            .execute(&db.pool)
            .await?;
    }
    let mut timers = Vec::new();
    for (id, boundary) in boundaries.iter().enumerate() {
        let pool = db.pool.clone();
        let wait = (*boundary - Utc::now()).to_std().unwrap_or_default();
        let id = i32::try_from(id)?;
        timers.push(tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            sqlx::query("update lag_baseline set written = now() where id = $1")
                .bind(id)
                .execute(&pool)
                .await
        }));
    }

    let total = i64::try_from(n)?;
    let active_sql = "select count(*) from events where phase = 'Active'";
    wait_until(&db.pool, active_sql, total, Duration::from_secs(10)).await?;
    let active = lags(&db.pool, "starts_at").await?;
    wait_until(
        &db.pool,
        "select count(*) from events where phase = 'Ended'",
        total,
        Duration::from_secs(10),
    )
    .await?;
    let ended = lags(&db.pool, "ends_at").await?;
    for timer in timers {
        timer.await??;
    }
    let mut baseline = Latencies::default();
    let rows: Vec<(f64,)> = sqlx::query_as(
        "select extract(epoch from written - boundary)::float8 * 1000 from lag_baseline where written is not null",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .for_each(|(ms,)| baseline.record(Duration::from_secs_f64(ms.max(0.0) / 1000.0)));
    let _ = stop.send(());
    task.await?.context("manifests mode")?;

    let mut all = active;
    all.merge(ended);
    println!(
        "transition lag over {} Events ({} boundaries), boundary to phase written in Postgres",
        n,
        all.len()
    );
    let (p50, p99, max) = (
        all.percentile_ms(50.0),
        all.percentile_ms(99.0),
        all.percentile_ms(100.0),
    );
    println!("  operator: p50 {p50:.1} ms  p99 {p99:.1} ms  max {max:.1} ms");
    let (b50, b99, bmax) = (
        baseline.percentile_ms(50.0),
        baseline.percentile_ms(99.0),
        baseline.percentile_ms(100.0),
    );
    println!("  baseline (tokio timer + raw UPDATE): p50 {b50:.1} ms  p99 {b99:.1} ms  max {bmax:.1} ms");
    println!("  ratio p99 operator/baseline: {:.2}", p99 / b99.max(0.001));
    Ok(())
}

/// Lag of the last phase write after `column` for every event, from `updated_at`.
async fn lags(db: &PgPool, column: &'static str) -> anyhow::Result<Latencies> {
    let sql = match column {
        "starts_at" => "select extract(epoch from updated_at - starts_at)::float8 * 1000 from events",
        _ => "select extract(epoch from updated_at - ends_at)::float8 * 1000 from events",
    };
    let rows: Vec<(f64,)> = sqlx::query_as(sql).fetch_all(db).await?;
    let mut latencies = Latencies::default();
    for (ms,) in rows {
        ensure!(ms >= -1.0, "a phase was written {ms:.1} ms before its boundary");
        latencies.record(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    Ok(latencies)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let work = std::env::temp_dir().join(format!("liveops-operator-bench-{}", std::process::id()));
    let result = async {
        lag(&options, &work).await?;
        throughput(&options, &work).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result
}
