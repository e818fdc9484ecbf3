//! `operator --manifests DIR` with thousands of objects (issue 15): Events
//! sharing a boundary all flip, and an edit made while the operator is busy
//! refreshing them is applied. Not timed: every wait has a generous
//! deadline and the assertions are about what happens, not how fast.

use std::{future::Future, path::PathBuf, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use liveops_testkit::TestDb;
use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

/// Events sharing one `startsAt`.
const EVENTS: usize = 3_000;
/// Events per file, as a catalogue split over many files would be.
const PER_FILE: usize = 100;

struct Operator {
    dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<operator::error::Result<()>>,
}

impl Operator {
    fn start(db: &PgPool, dir: PathBuf) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(operator::source::manifests::run(
            dir.clone(),
            db.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Self { dir, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the source task does not panic")
            .expect("the source stops cleanly");
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// Writes then renames, so a rescan never reads half a file.
fn write(dir: &std::path::Path, file: &str, yaml: &str) {
    let partial = dir.join(format!(".{file}.partial"));
    std::fs::write(&partial, yaml).expect("write the manifest");
    std::fs::rename(&partial, dir.join(file)).expect("move the manifest in place");
}

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
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn event_yaml(name: &str, display: &str, starts: DateTime<Utc>) -> String {
    let ends = starts + chrono::Duration::days(1);
    format!(
        "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: {name}\nspec:\n  \
         displayName: {display}\n  startsAt: \"{}\"\n  endsAt: \"{}\"\n",
        starts.to_rfc3339_opts(SecondsFormat::Millis, true),
        ends.to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

fn file_of(index: usize, starts: DateTime<Utc>, first_display: &str) -> String {
    (index * PER_FILE..(index + 1) * PER_FILE)
        .map(|i| {
            let name = format!("shared-{i:05}");
            let display = if i == 0 { first_display } else { name.as_str() };
            event_yaml(&name, display, starts)
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

async fn count(db: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect("count")
}

#[tokio::test]
async fn thousands_of_events_sharing_a_boundary_all_flip_and_an_edit_made_meanwhile_is_applied() {
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("liveops-scale-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("create the manifests directory");
    // Far enough ahead that loading finishes first on a slow machine.
    let starts = Utc::now() + chrono::Duration::seconds(20);
    for index in 0..EVENTS / PER_FILE {
        write(
            &dir,
            &format!("events-{index:03}.yaml"),
            &file_of(index, starts, "first"),
        );
    }
    let operator = Operator::start(&db.pool, dir.clone());
    let total = i64::try_from(EVENTS).expect("fits");
    eventually(Duration::from_secs(60), "every event Scheduled", || async {
        let scheduled = count(&db.pool, "select count(*) from events where phase = 'Scheduled'").await;
        (scheduled == total).then_some(())
    })
    .await;
    assert!(
        Utc::now() < starts,
        "loading took longer than the test allows for"
    );

    // At the boundary, while the operator refreshes 3,000 statuses, one
    // event's file is edited.
    let wait = (starts - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    write(&dir, "events-000.yaml", &file_of(0, starts, "edited"));

    eventually(
        Duration::from_secs(60),
        "every event Active in its row",
        || async {
            let active = count(&db.pool, "select count(*) from events where phase = 'Active'").await;
            (active == total).then_some(())
        },
    )
    .await;
    eventually(Duration::from_secs(60), "every stored status Active", || async {
        let active = count(
            &db.pool,
            "select count(*) from resource_status where kind = 'Event' and status->>'phase' = 'Active'",
        )
        .await;
        (active == total).then_some(())
    })
    .await;
    let written_before: i64 = count(
        &db.pool,
        "select count(*) from events where phase = 'Active' and updated_at < starts_at",
    )
    .await;
    assert_eq!(written_before, 0, "no event is Active before its startsAt");

    eventually(Duration::from_secs(30), "the edit applied", || async {
        let row: (String, i64) =
            sqlx::query_as("select display_name, generation from events where name = 'shared-00000'")
                .fetch_one(&db.pool)
                .await
                .expect("the edited row");
        let status: serde_json::Value = sqlx::query_scalar(
            "select status from resource_status where kind = 'Event' and name = 'shared-00000'",
        )
        .fetch_one(&db.pool)
        .await
        .expect("its status");
        let applied = row == ("edited".to_owned(), 2)
            && status["observedGeneration"] == 2
            && status["phase"] == "Active";
        applied.then_some(())
    })
    .await;
    operator.stop().await;
}
