//! `claims_bench`: POST /claims/{rewardId}/claim under concurrent load, then
//! the same claim statement sent raw by pgbench to the same database, and
//! both figures side by side (claims/s, ratio, p50 and p99 latency).
//!
//! Run by `bench/claims/run.sh`, which prepares the server, the database,
//! the event and the pgbench users; loopback only.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use liveops_bench::{claim_statement::pgbench_script, latency::Latencies};
use serde_json::{Value, json};

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// Base URL of the API server (loopback).
    #[arg(long, env = "API_URL")]
    api_url: String,
    /// Database the API server uses; pgbench runs against it too.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Reward to claim: unlimited stock, condition-free event, a large
    /// perUserLimit so every user can claim again and again.
    #[arg(long)]
    reward_id: String,
    /// Concurrent connections for both runs.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured seconds before each run.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// pgbench executable.
    #[arg(long, default_value = "pgbench")]
    pgbench: PathBuf,
    /// Directory for the pgbench script and logs.
    #[arg(long, default_value = "target/bench-claims")]
    work_dir: PathBuf,
}

/// What one run measured.
#[derive(Debug)]
struct RunFigures {
    claims_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    samples: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    ensure!(options.connections > 0, "--connections must be at least 1");
    ensure!(
        options.api_url.starts_with("http://127.") || options.api_url.starts_with("http://localhost"),
        "the benchmark runs on loopback only; --api-url {} is not",
        options.api_url
    );
    std::fs::create_dir_all(&options.work_dir).context("create the work directory")?;

    eprintln!("claims_bench: signing up {} users", options.connections);
    let tokens = sign_up_users(&options.api_url, options.connections).await?;
    eprintln!(
        "claims_bench: API run, {} connections, {} s",
        options.connections, options.duration_secs
    );
    let api = run_api_load(&options, &tokens).await?;
    eprintln!(
        "claims_bench: pgbench run, {} clients, {} s",
        options.connections, options.duration_secs
    );
    let raw = run_pgbench(&options).await?;

    let ratio = api.claims_per_sec / raw.claims_per_sec;
    println!(
        "claims benchmark, {} connections, {} s measured each",
        options.connections, options.duration_secs
    );
    println!("                 claims/s     p50 ms     p99 ms    samples");
    for (name, figures) in [("API (HTTP)", &api), ("pgbench (raw)", &raw)] {
        println!(
            "{name:<14} {:>10.1} {:>10.2} {:>10.2} {:>10}",
            figures.claims_per_sec, figures.p50_ms, figures.p99_ms, figures.samples
        );
    }
    println!(
        "ratio API / pgbench: {ratio:.2} (target >= 0.70); API p99 {:.2} ms (target < 50)",
        api.p99_ms
    );
    Ok(())
}

/// Signs up and logs in `count` users; returns their access tokens.
async fn sign_up_users(api_url: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let run = std::process::id();
    let mut tokens = Vec::with_capacity(count);
    for n in 0..count {
        let email = format!("bench-{run}-{n}@example.com");
        let password = "bench-password-1";
        let signup = client
            .post(format!("{api_url}/auth/signup"))
            .json(&json!({"email": email, "password": password, "birthDate": "1990-01-01"}))
            .send()
            .await
            .context("signup request")?;
        ensure!(
            signup.status().is_success(),
            "signup of {email}: {}",
            signup.text().await.unwrap_or_default()
        );
        let login: Value = client
            .post(format!("{api_url}/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .context("login request")?
            .error_for_status()
            .context("login")?
            .json()
            .await
            .context("login body")?;
        let token = login["accessToken"]
            .as_str()
            .context("accessToken in the login answer")?;
        tokens.push(token.to_owned());
    }
    Ok(tokens)
}

/// One connection per token, each claiming in a loop; samples after the
/// warm-up count.
async fn run_api_load(options: &Options, tokens: &[String]) -> anyhow::Result<RunFigures> {
    let url = format!("{}/claims/{}/claim", options.api_url, options.reward_id);
    let warmup_ends = Instant::now() + Duration::from_secs(options.warmup_secs);
    let run_ends = warmup_ends + Duration::from_secs(options.duration_secs);
    let mut tasks = Vec::new();
    for token in tokens {
        let (url, token) = (url.clone(), token.clone());
        // One client per task: its own keep-alive connection.
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            loop {
                let started = Instant::now();
                if started >= run_ends {
                    break;
                }
                let response = client.post(&url).bearer_auth(&token).send().await;
                let status = match response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // Read the body so the connection is reused.
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                if started >= warmup_ends && Instant::now() <= run_ends {
                    latencies.record(started.elapsed());
                    *statuses.entry(status).or_default() += 1;
                }
            }
            (latencies, statuses)
        }));
    }
    let mut latencies = Latencies::default();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for task in tasks {
        let (task_latencies, task_statuses) = task.await.context("load task")?;
        latencies.merge(task_latencies);
        for (status, count) in task_statuses {
            *statuses.entry(status).or_default() += count;
        }
    }
    let granted = statuses.get(&201).copied().unwrap_or(0);
    if statuses.keys().any(|status| *status != 201) {
        eprintln!("claims_bench: API answers by status (0 = transport error): {statuses:?}");
    }
    ensure!(granted > 0, "no claim was granted: {statuses:?}");
    Ok(RunFigures {
        claims_per_sec: granted as f64 / options.duration_secs as f64,
        p50_ms: latencies.percentile_ms(50.0),
        p99_ms: latencies.percentile_ms(99.0),
        samples: latencies.len(),
    })
}

/// The claim statement via pgbench: a warm-up run, then a measured run with
/// per-transaction logs for the percentiles.
async fn run_pgbench(options: &Options) -> anyhow::Result<RunFigures> {
    let script = pgbench_script(&options.reward_id);
    let script_path = options.work_dir.join("claim.sql");
    std::fs::write(&script_path, script).context("write the pgbench script")?;
    if options.warmup_secs > 0 {
        pgbench(options, &script_path, options.warmup_secs, None).await?;
    }
    let log_dir = options.work_dir.join("pgbench-log");
    let _ = std::fs::remove_dir_all(&log_dir);
    std::fs::create_dir_all(&log_dir).context("create the pgbench log directory")?;
    let output = pgbench(options, &script_path, options.duration_secs, Some(&log_dir)).await?;
    let failed = output
        .lines()
        .find_map(|line| line.strip_prefix("number of failed transactions: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    ensure!(failed == 0, "pgbench transactions failed:\n{output}");

    let mut latencies = Latencies::default();
    for entry in std::fs::read_dir(&log_dir).context("read the pgbench logs")? {
        let text = std::fs::read_to_string(entry?.path()).context("read a pgbench log")?;
        // client_id transaction_no latency_us script_no epoch_s epoch_us
        for line in text.lines() {
            if let Some(micros) = line
                .split_whitespace()
                .nth(2)
                .and_then(|field| field.parse::<u64>().ok())
            {
                latencies.record_micros(micros);
            }
        }
    }
    ensure!(!latencies.is_empty(), "pgbench logged no transactions:\n{output}");
    Ok(RunFigures {
        claims_per_sec: latencies.len() as f64 / options.duration_secs as f64,
        p50_ms: latencies.percentile_ms(50.0),
        p99_ms: latencies.percentile_ms(99.0),
        samples: latencies.len(),
    })
}

/// Runs pgbench for `secs`; returns its standard output.
async fn pgbench(
    options: &Options,
    script: &Path,
    secs: u64,
    log_dir: Option<&Path>,
) -> anyhow::Result<String> {
    let mut command = tokio::process::Command::new(&options.pgbench);
    command
        .arg("--no-vacuum")
        .args(["--protocol", "prepared"])
        .args(["--client", &options.connections.to_string()])
        .args(["--jobs", "2"])
        .args(["--time", &secs.to_string()])
        .arg("--file")
        .arg(script);
    if let Some(dir) = log_dir {
        command
            .arg("--log")
            .arg(format!("--log-prefix={}", dir.join("pgbench").display()));
    }
    command.arg(&options.database_url);
    let output = command
        .output()
        .await
        .with_context(|| format!("run {}", options.pgbench.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "pgbench failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}
