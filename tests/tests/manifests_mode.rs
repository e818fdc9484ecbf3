//! `operator --manifests DIR` end to end against real PostgreSQL: the
//! directory source runs in-process (`operator::source::manifests::run`, the
//! function the binary calls) and every assertion polls the database with a
//! deadline.

use std::{future::Future, path::PathBuf, time::Duration};

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use liveops_testkit::TestDb;
use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

/// A running manifests source over its own temporary directory.
struct Operator {
    dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<operator::error::Result<()>>>,
}

impl Operator {
    fn start(db: &PgPool) -> Self {
        let dir = std::env::temp_dir().join(format!("liveops-manifests-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the manifests directory");
        Self::start_in(db, dir)
    }

    fn start_in(db: &PgPool, dir: PathBuf) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(operator::source::manifests::run(
            dir.clone(),
            db.clone(),
            shutdown,
        ));
        Self {
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn write(&self, file: &str, yaml: &str) {
        let path = self.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the parent directory");
        }
        // Write then rename, as editors and `kubectl`-style tools do, so a
        // rescan never reads half a file.
        let partial = self.dir.join(format!(".{}.partial", uuid::Uuid::new_v4()));
        std::fs::write(&partial, yaml).expect("write the manifest");
        std::fs::rename(&partial, &path).expect("move the manifest in place");
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.join(file)).expect("remove the manifest");
    }

    /// Stops the source and waits for it, keeping the directory.
    async fn halt(mut self) -> PathBuf {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the source task does not panic")
                .expect("the source stops cleanly");
        }
        std::mem::take(&mut self.dir)
    }

    async fn stop(self) {
        let dir = self.halt().await;
        let _ = std::fs::remove_dir_all(dir);
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

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn event_yaml(name: &str, starts: DateTime<Utc>, ends: DateTime<Utc>, extra: &str) -> String {
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
        rfc3339(starts),
        rfc3339(ends)
    )
}

fn year_long(name: &str) -> String {
    let now = Utc::now();
    event_yaml(
        name,
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(365),
        "",
    )
}

fn reward_yaml(name: &str, event: &str, quantity: i32) -> String {
    format!(
        "apiVersion: liveops.dev/v1alpha1
kind: Reward
metadata:
  name: {name}
spec:
  eventRef:
    name: {event}
  displayName: {name}
  quantity: {quantity}
  payload:
    itemCode: GOLD
"
    )
}

async fn phase(db: &PgPool, name: &str) -> Option<String> {
    sqlx::query_scalar("select phase::text from events where name = $1 and deleted_at is null")
        .bind(name)
        .fetch_optional(db)
        .await
        .expect("read the phase")
}

async fn stored_status(db: &PgPool, kind: &str, name: &str) -> Option<serde_json::Value> {
    sqlx::query_scalar("select status from resource_status where kind = $1 and name = $2")
        .bind(kind)
        .bind(name)
        .fetch_optional(db)
        .await
        .expect("read resource_status")
}

async fn wait_for_phase(db: &PgPool, name: &str, wanted: &str, within: Duration) -> DateTime<Utc> {
    eventually(within, &format!("{name} to be {wanted}"), || async {
        (phase(db, name).await.as_deref() == Some(wanted)).then(Utc::now)
    })
    .await
}

#[tokio::test]
async fn an_event_is_scheduled_then_active_then_ended_within_a_second_of_each_boundary() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    let starts = Utc::now() + chrono::Duration::seconds(2);
    let ends = starts + chrono::Duration::seconds(2);
    op.write("soon.yaml", &event_yaml("soon", starts, ends, ""));

    let seen = wait_for_phase(&db.pool, "soon", "Scheduled", Duration::from_secs(2)).await;
    assert!(seen < starts, "Scheduled is seen before the start");
    let seen = wait_for_phase(&db.pool, "soon", "Active", Duration::from_secs(4)).await;
    assert!(
        seen >= starts,
        "never early: Active seen at {seen}, starts at {starts}"
    );
    assert!(
        seen - starts < chrono::Duration::seconds(1),
        "Active {} late",
        seen - starts
    );
    let seen = wait_for_phase(&db.pool, "soon", "Ended", Duration::from_secs(4)).await;
    assert!(seen >= ends, "never early: Ended seen at {seen}, ends at {ends}");
    assert!(
        seen - ends < chrono::Duration::seconds(1),
        "Ended {} late",
        seen - ends
    );

    let status = eventually(Duration::from_secs(1), "the Ended status", || async {
        stored_status(&db.pool, "Event", "soon")
            .await
            .filter(|s| s["phase"] == "Ended")
    })
    .await;
    assert_eq!(status["conditions"][0]["reason"], "Synced");
    assert!(
        status.get("nextTransitionTime").is_none(),
        "nothing is ahead of an Ended event"
    );
    op.stop().await;
}

#[tokio::test]
async fn editing_quantity_never_resets_claimed() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    op.write(
        "events/login.yaml",
        &format!("{}---\n{}", year_long("login"), reward_yaml("gold", "login", 10)),
    );
    let reward_id: uuid::Uuid = eventually(Duration::from_secs(2), "the reward row", || async {
        sqlx::query_scalar("select id from rewards where name = 'gold' and deleted_at is null")
            .fetch_optional(&db.pool)
            .await
            .expect("read the reward")
    })
    .await;
    // What three successful claims leave behind.
    sqlx::query("update rewards set claimed = 3 where id = $1")
        .bind(reward_id)
        .execute(&db.pool)
        .await
        .expect("claim");

    op.write(
        "events/login.yaml",
        &format!("{}---\n{}", year_long("login"), reward_yaml("gold", "login", 5)),
    );
    let (quantity, claimed): (Option<i32>, i32) =
        eventually(Duration::from_secs(2), "quantity 5", || async {
            let row: (Option<i32>, i32) =
                sqlx::query_as("select quantity, claimed from rewards where id = $1")
                    .bind(reward_id)
                    .fetch_one(&db.pool)
                    .await
                    .expect("read the reward");
            (row.0 == Some(5)).then_some(row)
        })
        .await;
    assert_eq!((quantity, claimed), (Some(5), 3));
    let status = eventually(Duration::from_secs(3), "remaining 2 in the status", || async {
        stored_status(&db.pool, "Reward", "gold")
            .await
            .filter(|s| s["remaining"] == 2)
    })
    .await;
    assert_eq!(status["claimed"], 3);
    assert_eq!(status["observedGeneration"], 2, "the edit bumped the generation");
    op.stop().await;
}

#[tokio::test]
async fn deleting_a_file_soft_deletes_its_rows_and_keeps_claims() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    op.write("event.yaml", &year_long("invite"));
    op.write("reward.yaml", &reward_yaml("ticket", "invite", 100));
    eventually(Duration::from_secs(2), "the reward row", || async {
        let live: Option<bool> =
            sqlx::query_scalar("select deleted_at is null from rewards where name = 'ticket'")
                .fetch_optional(&db.pool)
                .await
                .expect("read the reward");
        live.filter(|live| *live)
    })
    .await;
    sqlx::query("update rewards set claimed = 4 where name = 'ticket'")
        .execute(&db.pool)
        .await
        .expect("claim");

    op.remove("reward.yaml");
    let claimed: i32 = eventually(Duration::from_secs(1), "the reward soft-deleted", || async {
        sqlx::query_scalar("select claimed from rewards where name = 'ticket' and deleted_at is not null")
            .fetch_optional(&db.pool)
            .await
            .expect("read the reward")
    })
    .await;
    assert_eq!(claimed, 4, "claims history stays");
    // The status row goes right after the soft delete.
    eventually(
        Duration::from_secs(1),
        "the reward's status forgotten",
        || async {
            stored_status(&db.pool, "Reward", "ticket")
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;

    op.remove("event.yaml");
    eventually(Duration::from_secs(1), "the event soft-deleted", || async {
        sqlx::query_scalar::<_, bool>(
            "select true from events where name = 'invite' and deleted_at is not null",
        )
        .fetch_optional(&db.pool)
        .await
        .expect("read the event")
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn invalid_documents_are_skipped_while_the_others_load() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    let broken = year_long("broken").replace("displayName: broken", "displayName: [unclosed");
    let bad_zone = format!("{}  timeZone: Mars/Olympus_Mons\n", year_long("martian"));
    op.write(
        "mixed.yaml",
        &format!(
            "{}---\n{broken}---\n{}---\n{bad_zone}",
            year_long("profile"),
            reward_yaml("badge", "profile", 1)
        ),
    );
    let status = eventually(Duration::from_secs(2), "the reward's status", || async {
        stored_status(&db.pool, "Reward", "badge")
            .await
            .filter(|s| s["claimed"] == 0)
    })
    .await;
    assert_eq!(status["conditions"][0]["status"], "True");
    assert_eq!(phase(&db.pool, "profile").await.as_deref(), Some("Active"));
    assert_eq!(
        phase(&db.pool, "broken").await,
        None,
        "a document that does not parse writes nothing"
    );

    let martian = eventually(Duration::from_secs(1), "the invalid event's status", || async {
        stored_status(&db.pool, "Event", "martian").await
    })
    .await;
    assert_eq!(martian["phase"], "Invalid");
    assert_eq!(martian["conditions"][0]["reason"], "InvalidSpec");
    assert!(
        martian["conditions"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("spec.timeZone")
    );
    assert_eq!(
        phase(&db.pool, "martian").await,
        None,
        "an invalid event is never activated"
    );
    op.stop().await;
}

#[tokio::test]
async fn a_reward_waits_for_its_event_and_picks_it_up_when_it_appears() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    op.write("reward.yaml", &reward_yaml("early", "later", 1));
    let status = eventually(Duration::from_secs(2), "EventNotFound", || async {
        stored_status(&db.pool, "Reward", "early").await
    })
    .await;
    assert_eq!(status["conditions"][0]["reason"], "EventNotFound");
    let rows: i64 = sqlx::query_scalar("select count(*) from rewards")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "no row for a dangling reward");

    op.write("event.yaml", &year_long("later"));
    eventually(Duration::from_secs(2), "the reward Ready", || async {
        stored_status(&db.pool, "Reward", "early")
            .await
            .filter(|s| s["conditions"][0]["reason"] == "Synced")
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_and_soft_deletes_what_vanished_meanwhile() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    op.write("keep.yaml", &year_long("keep"));
    op.write("drop.yaml", &year_long("drop"));
    wait_for_phase(&db.pool, "drop", "Active", Duration::from_secs(2)).await;
    // The status is stored right after the row is written.
    let first = eventually(Duration::from_secs(2), "keep's status", || async {
        stored_status(&db.pool, "Event", "keep").await
    })
    .await;
    eventually(Duration::from_secs(2), "drop's status", || async {
        stored_status(&db.pool, "Event", "drop").await
    })
    .await;
    let dir = op.halt().await;
    std::fs::remove_file(dir.join("drop.yaml")).expect("remove while stopped");
    assert_eq!(
        phase(&db.pool, "drop").await.as_deref(),
        Some("Active"),
        "nobody saw the deletion yet"
    );

    let op = Operator::start_in(&db.pool, dir);
    eventually(
        Duration::from_secs(2),
        "drop soft-deleted after the restart",
        || async { phase(&db.pool, "drop").await.is_none().then_some(()) },
    )
    .await;
    let again = stored_status(&db.pool, "Event", "keep").await.expect("status");
    assert_eq!(
        again["conditions"][0]["lastTransitionTime"], first["conditions"][0]["lastTransitionTime"],
        "an unchanged object keeps its status across restarts"
    );
    op.stop().await;
}

/// (event name, phase it has now, reward count) for every Event in `manifests/examples/`, from the
/// files themselves and the operator's own schedule.
fn expected_example_rows(examples: &std::path::Path) -> Vec<(String, String, i64)> {
    let mut events = Vec::new();
    let mut reward_refs = Vec::new();
    for entry in std::fs::read_dir(examples).expect("read manifests/examples") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read an example");
        let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
        for document in documents {
            match document["kind"].as_str() {
                Some("Event") => events
                    .push(serde_json::from_value::<liveops_domain::crd::Event>(document).expect("an Event")),
                Some("Reward") => reward_refs.push(document["spec"]["eventRef"]["name"].clone()),
                // counted by `the_examples_load_with_their_rewards` from the table
                Some("Counter" | "IngestClient") => {}
                other => panic!("unexpected kind {other:?}"),
            }
        }
    }
    let mut rows: Vec<(String, String, i64)> = events
        .iter()
        .map(|event| {
            let name = event.metadata.name.clone().expect("named");
            let rewards = reward_refs
                .iter()
                .filter(|r| r.as_str() == Some(name.as_str()))
                .count();
            let phase = operator::schedule::schedule_at(&event.spec, Utc::now()).phase;
            (name, phase.to_string(), i64::try_from(rewards).expect("few"))
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_examples_load_with_their_rewards() {
    let db = TestDb::new().await;
    let examples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../manifests/examples"));
    let expected = expected_example_rows(&examples);
    assert!(
        expected.len() >= 6,
        "one example per condition kind, plus suspend: {expected:?}"
    );
    assert!(
        expected.iter().any(|row| row.1 == "Suspended") || Utc::now().year() >= 2028,
        "the suspended example is Suspended until its window ends"
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(operator::source::manifests::run(
        examples,
        db.pool.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    eventually(
        Duration::from_secs(3),
        &format!("the example events with their rewards and phases: {expected:?}"),
        || async {
            let rows: Vec<(String, String, i64)> = sqlx::query_as(
                "select e.name, e.phase::text, count(r.id)
             from events e left join rewards r on r.event_id = e.id and r.deleted_at is null
             where e.deleted_at is null group by e.name, e.phase order by e.name",
            )
            .fetch_all(&db.pool)
            .await
            .expect("read events");
            (rows == expected).then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(3),
        "the example counters and ingest clients",
        || async {
            let counts: (i64, i64) = sqlx::query_as(
                "select (select count(*) from counters where deleted_at is null),
                        (select count(*) from ingest_clients where deleted_at is null and not suspended)",
            )
            .fetch_one(&db.pool)
            .await
            .expect("count challenge rows");
            (counts == (5, 4)).then_some(())
        },
    )
    .await;
    let _ = stop.send(());
    task.await.expect("no panic").expect("clean stop");
}

#[tokio::test]
async fn claims_show_up_in_the_stored_status_within_seconds() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    op.write(
        "event.yaml",
        &format!(
            "{}---\n{}",
            year_long("attend"),
            reward_yaml("coin", "attend", 10)
        ),
    );
    eventually(Duration::from_secs(2), "the reward's status", || async {
        stored_status(&db.pool, "Reward", "coin")
            .await
            .filter(|s| s["remaining"] == 10)
    })
    .await;
    // What one successful claim transaction leaves behind.
    sqlx::query("update rewards set claimed = claimed + 1 where name = 'coin'")
        .execute(&db.pool)
        .await
        .expect("claim");
    sqlx::query("update events set claims_total = claims_total + 1 where name = 'attend'")
        .execute(&db.pool)
        .await
        .expect("count the claim");
    // The resync runs every 2 s.
    eventually(Duration::from_secs(3), "remaining 9", || async {
        stored_status(&db.pool, "Reward", "coin")
            .await
            .filter(|s| s["remaining"] == 9 && s["claimed"] == 1)
    })
    .await;
    eventually(Duration::from_secs(3), "claimsTotal 1", || async {
        stored_status(&db.pool, "Event", "attend")
            .await
            .filter(|s| s["claimsTotal"] == 1)
    })
    .await;
    op.stop().await;
}

#[tokio::test]
async fn a_broken_edit_keeps_the_last_good_version_in_force() {
    let db = TestDb::new().await;
    let op = Operator::start(&db.pool);
    op.write("streak.yaml", &year_long("streak"));
    wait_for_phase(&db.pool, "streak", "Active", Duration::from_secs(2)).await;

    let broken = year_long("streak").replace("endsAt: \"", "endsAt: \"not a time ");
    op.write("streak.yaml", &broken);
    // A Reward written afterwards: the rescan that loads it has seen the
    // broken edit too, and rewards are reconciled after any deletion.
    op.write("marker.yaml", &reward_yaml("marker", "streak", 1));
    let status = eventually(Duration::from_secs(2), "the marker reward's status", || async {
        stored_status(&db.pool, "Reward", "marker").await
    })
    .await;
    assert_eq!(
        status["conditions"][0]["reason"], "Synced",
        "the Event stayed in force"
    );
    assert_eq!(phase(&db.pool, "streak").await.as_deref(), Some("Active"));
    op.stop().await;
}
