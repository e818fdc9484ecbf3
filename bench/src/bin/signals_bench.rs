//! `signals_bench`: signals ingested per second through `POST /signals`
//! (CONNECTIONS game-server connections posting batches of fresh Sum
//! signals back to back) against the same batch statement sent raw by
//! pgbench on the same database in the same run; prints the ratio.
//!
//! Run by `bench/signals/run.sh`, which prepares the server, the event, the
//! counter, the IngestClient and the users; loopback only.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use clap::Parser;
use liveops_bench::signal_statement::pgbench_script;
use serde_json::{Value, json};

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// Base URL of the API server (loopback).
    #[arg(long)]
    api_url: String,
    /// Database the API server uses; pgbench runs against it too.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The IngestClient row's id (for the raw statement).
    #[arg(long)]
    client_row: String,
    /// `<namespace>/<name>` of the IngestClient.
    #[arg(long)]
    client_id: String,
    /// Its secret.
    #[arg(long)]
    client_secret: String,
    /// The Sum counter fed.
    #[arg(long, default_value = "bench-kills")]
    counter: String,
    /// How many bench users `run.sh` inserted (ids as in `signal_statement`).
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Concurrent connections (HTTP) and pgbench clients.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Signals per batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured seconds before each run.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// pgbench executable.
    #[arg(long, default_value = "pgbench")]
    pgbench: PathBuf,
    /// Directory for the pgbench script.
    #[arg(long)]
    work_dir: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let token = client_token(&options).await?;
    eprintln!("signals_bench: API, then pgbench (the batch statement sent raw)");
    let api = api_signals_per_sec(&options, &token).await?;
    let raw = pgbench_signals_per_sec(&options).await?;
    println!(
        "signals/s at {} connections, batches of {}: API {api:.0}, raw statement (pgbench) {raw:.0}, ratio {:.2}",
        options.connections,
        options.batch,
        api / raw
    );
    Ok(())
}

async fn client_token(options: &Options) -> anyhow::Result<String> {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", options.api_url))
        .basic_auth(&options.client_id, Some(&options.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .context("token request")?
        .error_for_status()
        .context("token")?
        .json()
        .await
        .context("token body")?;
    Ok(answer["access_token"]
        .as_str()
        .context("access_token")?
        .to_owned())
}

/// Accepted signals per second over the measured window.
async fn api_signals_per_sec(options: &Options, token: &str) -> anyhow::Result<f64> {
    let warmup_ends = Instant::now() + Duration::from_secs(options.warmup_secs);
    let run_ends = warmup_ends + Duration::from_secs(options.duration_secs);
    let users = user_ids(options.users);
    let mut tasks = Vec::new();
    for task in 0..options.connections {
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        let (url, token, users) = (
            format!("{}/signals", options.api_url),
            token.to_owned(),
            users.clone(),
        );
        let (counter, batch) = (options.counter.clone(), options.batch);
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0_u64;
            for turn in 0_usize.. {
                let started = Instant::now();
                if started >= run_ends {
                    break;
                }
                // The users pgbench's script picks: a random start, stride 7
                // (signal_statement.rs), so both sides contend on rows alike.
                let start = (uuid::Uuid::new_v4().as_u128() % (users.len() as u128 + 1)) as usize;
                let signals: Vec<Value> = (1..=batch)
                    .map(|g| {
                        json!({"id": format!("api-{task}-{turn}-{g}"), "userId": users[(start + g * 7) % users.len()],
                               "counter": counter, "delta": 1, "occurredAt": chrono::Utc::now()})
                    })
                    .collect();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "signals": signals }))
                    .send()
                    .await;
                let counted = match answer {
                    Ok(response) => response
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|body| body["accepted"].as_u64())
                        .unwrap_or(0),
                    Err(_) => 0,
                };
                if started >= warmup_ends && Instant::now() <= run_ends {
                    accepted += counted;
                }
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        accepted += task.await.context("load task")?;
    }
    ensure!(accepted > 0, "the API accepted no signal");
    Ok(accepted as f64 / options.duration_secs as f64)
}

fn user_ids(count: usize) -> Vec<String> {
    (0..count)
        .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
        .collect()
}

/// Statements per second (each `batch` fresh signals) times `batch`.
async fn pgbench_signals_per_sec(options: &Options) -> anyhow::Result<f64> {
    let script = options.work_dir.join("record-signals.sql");
    let text = pgbench_script(
        &options.client_row,
        &options.counter,
        options.batch,
        options.users,
    );
    std::fs::write(&script, text).context("write the pgbench script")?;
    if options.warmup_secs > 0 {
        pgbench(options, &script, options.warmup_secs).await?;
    }
    let output = pgbench(options, &script, options.duration_secs).await?;
    let processed = output
        .lines()
        .find_map(|line| line.strip_prefix("number of transactions actually processed: "))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u64>().ok())
        .context(format!("no transaction count in pgbench's output:\n{output}"))?;
    Ok((processed * options.batch as u64) as f64 / options.duration_secs as f64)
}

async fn pgbench(options: &Options, script: &std::path::Path, secs: u64) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(&options.pgbench)
        .arg("--no-vacuum")
        .args(["--protocol", "prepared"])
        .args(["--client", &options.connections.to_string()])
        .args(["--jobs", "2"])
        .args(["--time", &secs.to_string()])
        .arg("--file")
        .arg(script)
        .arg(&options.database_url)
        .output()
        .await
        .context("run pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "pgbench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}
