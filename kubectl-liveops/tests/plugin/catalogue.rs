//! The fixtures catalogue (`tests/fixtures/catalogue`) projected into a
//! database by the operator's manifests mode, and running the plugin binary.

use std::{
    future::Future,
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};
use uuid::Uuid;

/// A path under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// The operator's manifests mode over the catalogue, until stopped.
pub struct Projection {
    stop: oneshot::Sender<()>,
    task: JoinHandle<operator::error::Result<()>>,
}

impl Projection {
    /// Starts it and waits until every event and reward has its row.
    pub async fn start(db: &PgPool) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(operator::source::manifests::run(
            fixture("catalogue"),
            db.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        eventually("4 events and 5 rewards projected", || async {
            let counts: (i64, i64) =
                sqlx::query_as("select (select count(*) from events), (select count(*) from rewards)")
                    .fetch_one(db)
                    .await
                    .expect("count rows");
            counts == (4, 5)
        })
        .await;
        Self { stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the source does not panic")
            .expect("the source stops cleanly");
    }
}

/// Polls `check` every 20 ms, failing after 30 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Inserts a user with `email` and `nickname`.
pub async fn user(db: &PgPool, email: &str, nickname: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into users (email, password_hash, birth_date, invite_code, nickname)
         values ($1, 'not-a-hash', '2000-01-01', $2, $3) returning id",
    )
    .bind(email)
    .bind(Uuid::new_v4().simple().to_string())
    .bind(nickname)
    .fetch_one(db)
    .await
    .expect("insert user")
}

/// The id of reward `games/name`.
pub async fn reward_id(db: &PgPool, name: &str) -> Uuid {
    sqlx::query_scalar("select id from rewards where namespace = 'games' and name = $1")
        .bind(name)
        .fetch_one(db)
        .await
        .expect("reward projected")
}

/// Runs the plugin binary with `args`, without a DATABASE_URL from the test's environment.
pub async fn plugin(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-liveops"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("run kubectl-liveops")
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
