//! Manifests mode feeds the same Prometheus metrics as the cluster
//! controllers: reconciles and durations per kind, failures by fixed reason,
//! and the phase gauge through phase changes, invalid specs and deletions.
//! Every assertion reads the encoded text `/metrics` serves, with a deadline.

use std::{future::Future, path::PathBuf, time::Duration};

use chrono::{SecondsFormat, Utc};
use liveops_testkit::TestDb;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use super::run_with_metrics;
use crate::{error::Result, metrics::Metrics};

/// Manifests mode over a temporary directory of its own.
struct Source {
    dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<()>>,
}

impl Source {
    fn start(db: &PgPool, metrics: &Metrics) -> Self {
        let dir = std::env::temp_dir().join(format!("liveops-metrics-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the manifests directory");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_with_metrics(
            dir.clone(),
            db.clone(),
            metrics.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Self { dir, stop, task }
    }

    /// Writes then renames, so a rescan never reads half a file.
    fn write(&self, file: &str, yaml: &str) {
        let partial = self.dir.join(format!(".{}.partial", uuid::Uuid::new_v4()));
        std::fs::write(&partial, yaml).expect("write the manifest");
        std::fs::rename(&partial, self.dir.join(file)).expect("move the manifest in place");
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.join(file)).expect("remove the manifest");
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the source task does not panic")
            .expect("the source stops cleanly");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `check` every 20 ms until it yields `Some`, failing after `within`.
async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of one series in the Prometheus text, e.g.
/// `liveops_operator_objects{kind="Event",phase="Active"}`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// A series and what its value must satisfy (absent counts as 0).
type Expect<'a> = (&'a str, fn(f64) -> bool);

/// Waits until every expectation holds at once in the rendered text.
async fn wait_for(metrics: &Metrics, what: &str, wanted: &[Expect<'_>]) {
    eventually(Duration::from_secs(3), what, || async {
        let text = metrics.render();
        wanted
            .iter()
            .all(|(series, holds)| holds(sample(&text, series).unwrap_or(0.0)))
            .then_some(())
    })
    .await;
}

fn event_yaml(name: &str, extra: &str) -> String {
    let now = Utc::now();
    let at = |offset: chrono::Duration| (now + offset).to_rfc3339_opts(SecondsFormat::Millis, true);
    format!(
        "apiVersion: liveops.dev/v1alpha1
kind: Event
metadata:
  name: {name}
spec:
  displayName: {name}
  startsAt: \"{}\"
  endsAt: \"{}\"
{extra}",
        at(-chrono::Duration::days(1)),
        at(chrono::Duration::days(365)),
    )
}

fn reward_yaml(name: &str, event: &str) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1
kind: Reward
metadata:
  name: {name}
spec:
  eventRef:
    name: {event}
  displayName: {name}
  quantity: 3
"
    )
}

const EVENT_RECONCILES: &str = r#"liveops_operator_reconciles_total{kind="Event"}"#;
const REWARD_RECONCILES: &str = r#"liveops_operator_reconciles_total{kind="Reward"}"#;
const EVENT_TIMED: &str = r#"liveops_operator_reconcile_duration_seconds_count{kind="Event"}"#;
const REWARD_TIMED: &str = r#"liveops_operator_reconcile_duration_seconds_count{kind="Reward"}"#;
const ACTIVE: &str = r#"liveops_operator_objects{kind="Event",phase="Active"}"#;
const INVALID: &str = r#"liveops_operator_objects{kind="Event",phase="Invalid"}"#;
const READY: &str = r#"liveops_operator_objects{kind="Reward",phase="Ready"}"#;
const NOT_READY: &str = r#"liveops_operator_objects{kind="Reward",phase="NotReady"}"#;

#[tokio::test]
async fn manifests_mode_counts_times_and_gauges_both_kinds() {
    let db = TestDb::new().await;
    let metrics = Metrics::new();
    let source = Source::start(&db.pool, &metrics);
    source.write("launch.yaml", &event_yaml("launch", ""));
    source.write("coins.yaml", &reward_yaml("coins", "launch"));

    wait_for(
        &metrics,
        "reconciles of both kinds, timed, and their phases",
        &[
            (EVENT_RECONCILES, |v| v >= 1.0),
            (REWARD_RECONCILES, |v| v >= 1.0),
            (EVENT_TIMED, |v| v >= 1.0),
            (REWARD_TIMED, |v| v >= 1.0),
            (ACTIVE, |v| v == 1.0),
            (READY, |v| v == 1.0),
        ],
    )
    .await;

    // An edit that makes the spec invalid moves the event, not adds it.
    source.write(
        "launch.yaml",
        &event_yaml("launch", "  timeZone: Mars/Olympus_Mons\n"),
    );
    wait_for(
        &metrics,
        "the event to move from Active to Invalid",
        &[(ACTIVE, |v| v == 0.0), (INVALID, |v| v == 1.0)],
    )
    .await;

    // Deleting the event drops it from the gauge; its reward loses its event.
    source.remove("launch.yaml");
    wait_for(
        &metrics,
        "the deleted event gone, its reward not ready",
        &[
            (INVALID, |v| v == 0.0),
            (READY, |v| v == 0.0),
            (NOT_READY, |v| v == 1.0),
        ],
    )
    .await;
    source.remove("coins.yaml");
    wait_for(
        &metrics,
        "the deleted reward gone",
        &[(NOT_READY, |v| v == 0.0), (READY, |v| v == 0.0)],
    )
    .await;
    let text = metrics.render();
    assert!(
        !text.contains("liveops_operator_reconcile_failures_total{"),
        "nothing failed: {text}"
    );
    source.stop().await;
}

#[tokio::test]
async fn manifests_mode_counts_database_failures_under_the_cluster_label() {
    let db = TestDb::new().await;
    // A pool of the source's own, closed under it to make PostgreSQL unreachable.
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&db.url)
        .await
        .expect("connect to the test database");
    let metrics = Metrics::new();
    let source = Source::start(&pool, &metrics);
    source.write("first.yaml", &event_yaml("first", ""));
    wait_for(&metrics, "the first event active", &[(ACTIVE, |v| v == 1.0)]).await;

    pool.close().await;
    source.write("second.yaml", &event_yaml("second", ""));
    wait_for(
        &metrics,
        "a database failure of the second event",
        &[(
            r#"liveops_operator_reconcile_failures_total{kind="Event",reason="database"}"#,
            |v| v >= 1.0,
        )],
    )
    .await;
    // The failed event has no phase yet; the first keeps its own.
    assert_eq!(metrics.objects_in_phase("Event", "Active"), 1);
    source.stop().await;
}

#[tokio::test]
async fn the_phase_timer_records_how_late_each_transition_landed() {
    let db = TestDb::new().await;
    let metrics = Metrics::new();
    let source = Source::start(&db.pool, &metrics);
    let starts =
        (Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339_opts(SecondsFormat::Millis, true);
    source.write(
        "soon.yaml",
        &format!(
            "apiVersion: liveops.dev/v1alpha1
kind: Event
metadata:
  name: soon
spec:
  displayName: soon
  startsAt: \"{starts}\"
  endsAt: \"2099-01-01T00:00:00Z\"
"
        ),
    );
    // Loaded before its boundary, so the timer (not the load) makes it Active.
    wait_for(
        &metrics,
        "the event scheduled",
        &[(
            r#"liveops_operator_objects{kind="Event",phase="Scheduled"}"#,
            |v| v == 1.0,
        )],
    )
    .await;
    eventually(Duration::from_secs(10), "one Active transition timed", || async {
        let text = metrics.render();
        let count = sample(
            &text,
            r#"liveops_event_transition_lag_seconds_count{phase="Active"}"#,
        )?;
        let sum = sample(
            &text,
            r#"liveops_event_transition_lag_seconds_sum{phase="Active"}"#,
        )?;
        (count == 1.0 && sum >= 0.0).then_some(())
    })
    .await;
    source.stop().await;
}

#[tokio::test]
async fn a_scrape_reads_every_rewards_stock_from_the_ledger() {
    let db = TestDb::new().await;
    let metrics = Metrics::new();
    let source = Source::start(&db.pool, &metrics);
    source.write("launch.yaml", &event_yaml("launch", ""));
    source.write("coins.yaml", &reward_yaml("coins", "launch"));
    wait_for(&metrics, "the reward ready", &[(READY, |v| v == 1.0)]).await;
    let series = r#"liveops_reward_stock_remaining{reward_namespace="default",reward="coins"}"#;
    assert_eq!(
        sample(&metrics.render_with_stock(&db.pool).await, series),
        Some(3.0)
    );
    // A claim moves the counter in the ledger; the next scrape shows it.
    sqlx::query("update rewards set claimed = claimed + 1 where name = 'coins'")
        .execute(&db.pool)
        .await
        .expect("claim");
    assert_eq!(
        sample(&metrics.render_with_stock(&db.pool).await, series),
        Some(2.0)
    );
    assert_eq!(
        sample(&metrics.render(), series),
        None,
        "rows are held only for the scrape that read them"
    );
    source.stop().await;
}
