//! `watch_bench`: how soon manifests mode applies an edit to a file, with
//! inotify (`--manifests-watch auto`) against polling (`poll`, the old
//! 250 ms rescan) in the same run (issue 13: "inotify picks up an edit
//! within 200 ms").
//!
//! Each mode loads the same catalogue into a fresh database, then edits one
//! Event's `displayName` `--edits` times, each time timing from the file
//! write until the `events` row shows the new name (polled every 2 ms).
//! Run by hand: `cargo run --release -p liveops-bench --bin watch_bench`.

use std::{path::Path, time::Duration};

use clap::Parser;
use liveops_bench::operator::{catalogue::Catalogue, measure::wait_for};
use liveops_testkit::TestDb;
use operator::{metrics::Metrics, source::manifests::watcher::DirectoryWatcher};
use sqlx::PgPool;
use tokio::{sync::oneshot, time::Instant};

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// Events in the directory (three Rewards each), 100 per file.
    #[arg(long, default_value_t = 1_000)]
    events: usize,
    /// Edits timed per mode.
    #[arg(long, default_value_t = 40)]
    edits: usize,
}

const LOAD_WITHIN: Duration = Duration::from_secs(300);
const EDIT_WITHIN: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let catalogue = Catalogue {
        events: options.events,
        rewards_per_event: 3,
        starts_at: chrono::Utc::now() + chrono::Duration::days(1),
    };
    let work = std::env::temp_dir().join(format!("liveops-watch-bench-{}", std::process::id()));
    let native = run_mode("inotify", &catalogue, &work.join("native"), options.edits, true).await?;
    let polled = run_mode("polling", &catalogue, &work.join("polled"), options.edits, false).await?;
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "median edit-to-row lag, inotify / polling: {:.2} (target: inotify p95 <= 200 ms)",
        median(&native) / median(&polled)
    );
    Ok(())
}

/// Loads the catalogue with one kind of watcher and times `edits` edits.
async fn run_mode(
    label: &str,
    catalogue: &Catalogue,
    dir: &Path,
    edits: usize,
    native: bool,
) -> anyhow::Result<Vec<f64>> {
    catalogue.write_yaml(dir, 100)?;
    let db = TestDb::new().await;
    let watcher = if native {
        DirectoryWatcher::new(dir)
    } else {
        DirectoryWatcher::polling()
    };
    anyhow::ensure!(
        watcher.is_native() == native,
        "inotify unavailable on this machine"
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(operator::source::manifests::run_watching(
        dir.to_path_buf(),
        db.pool.clone(),
        Metrics::new(),
        watcher,
        async move {
            let _ = stopped.await;
        },
    ));
    let events = i64::try_from(catalogue.events)?;
    wait_for("every event loaded", LOAD_WITHIN, || async {
        let loaded: i64 = sqlx::query_scalar("select count(*) from events")
            .fetch_one(&db.pool)
            .await?;
        Ok(loaded >= events)
    })
    .await?;
    let mut lags = Vec::with_capacity(edits);
    for edit in 0..edits {
        lags.push(time_one_edit(&db.pool, dir, edit).await?);
    }
    let _ = stop.send(());
    task.await??;
    lags.sort_by(f64::total_cmp);
    println!(
        "{label:>8}: {edits} edits, edit-to-row lag median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        median(&lags),
        lags[(lags.len() * 95 / 100).min(lags.len() - 1)],
        lags[lags.len() - 1]
    );
    Ok(lags)
}

/// Renames event 7 in its file; the milliseconds until its row shows it.
async fn time_one_edit(db: &PgPool, dir: &Path, edit: usize) -> anyhow::Result<f64> {
    let file = dir.join("catalogue-0000.yaml");
    let name = Catalogue::event_name(7);
    let yaml = std::fs::read_to_string(&file)?;
    let current = format!("displayName: {name}");
    let start = yaml
        .find(&current)
        .ok_or_else(|| anyhow::anyhow!("event 7 not in the first file"))?;
    let end = start + yaml[start..].find('\n').unwrap_or(yaml.len() - start);
    let wanted = format!("{name}-edit-{edit}");
    let edited = format!("{}displayName: {wanted}{}", &yaml[..start], &yaml[end..]);
    // Edits are spaced out, as a person's are, so that each one starts from
    // an idle watcher rather than inside the previous edit's debounce.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = Instant::now();
    std::fs::write(&file, edited)?;
    wait_for_name(db, &name, &wanted).await?;
    Ok(began.elapsed().as_secs_f64() * 1000.0)
}

async fn wait_for_name(db: &PgPool, name: &str, wanted: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + EDIT_WITHIN;
    loop {
        let shown: Option<String> = sqlx::query_scalar("select display_name from events where name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?;
        if shown.as_deref() == Some(wanted) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "edit {wanted} not applied in {EDIT_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}
