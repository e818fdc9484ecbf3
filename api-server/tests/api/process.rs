//! The real binary: migrates an empty database at start-up, logs JSON when
//! asked, serves, and exits cleanly on SIGTERM.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use liveops_testkit::{server_url, with_database};
use sqlx::{Connection, Executor, PgConnection};

/// A database with no tables at all, not cloned from the migrated template.
async fn empty_database() -> String {
    let mut admin = PgConnection::connect(&server_url())
        .await
        .expect("admin connection");
    let name = format!("empty_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(sqlx::AssertSqlSafe(format!(r#"create database "{name}""#)))
        .await
        .expect("create database");
    with_database(&server_url(), &name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test]
async fn the_binary_migrates_an_empty_database_serves_and_stops_on_sigterm() {
    let database_url = empty_database().await;
    let port = free_port();
    let metrics_port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_api-server"))
        .env("DATABASE_URL", &database_url)
        .env("JWT_SECRET", "s".repeat(40))
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("ADMIN_EMAIL")
        .env_remove("ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start api-server");
    let client = reqwest::Client::new();
    let ready_url = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut ready = false;
    while Instant::now() < deadline {
        if client
            .get(&ready_url)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("api-server exited early with {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ready {
        let _ = child.kill();
        panic!("api-server did not become ready within 15 s");
    }
    let mut conn = PgConnection::connect(&database_url).await.expect("connect");
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&mut conn)
        .await
        .expect("migrations table");
    assert_eq!(applied, liveops_domain::MIGRATOR.iter().count() as i64);
    conn.close().await.ok();

    let metrics = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .expect("metrics listener answers");
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .text()
            .await
            .expect("text")
            .contains("liveops_database_up 1")
    );

    // The shell's builtin kill: no process-tools package needed.
    let terminated = Command::new("sh")
        .args(["-c", "kill -TERM \"$0\"", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "api-server did not stop within 10 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let output = child.wait_with_output().expect("output");
    let logs = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
        .collect();
    assert!(lines.iter().any(|line| line["message"] == "serving"), "{logs}");
    // One access-log line per request at info, with its request id.
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "finished processing request"
                && line["status"] == 200
                && line["span"]["request_id"]
                    .as_str()
                    .is_some_and(|id| !id.is_empty())),
        "{logs}"
    );
    assert!(
        lines.iter().any(|line| line["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("shutting down"))),
        "{logs}"
    );
}
