//! `claims_bench`: POST /claims/{rewardId}/claim under concurrent load in
//! three scenarios (issue 14), each beside a same-run baseline: `hot` (one
//! reward) and `spread` (60 rewards of one event) against the same grant
//! sent by pgbench as a naive six-round-trip transaction (and, for `hot`,
//! the claim statement itself sent raw), and `storm` (a sold-out reward:
//! refusals per second against the `hot` granting rate).
//!
//! Run by `bench/claims/run.sh`, which prepares the server, the database,
//! the event and the pgbench users; loopback only.

use std::{path::Path, path::PathBuf, time::Duration};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use liveops_bench::{
    claim_statement::{
        SPREAD_REWARDS, naive_pgbench_script, pgbench_script, spread_reward_id, spread_reward_id_sql,
    },
    claims_history,
    claims_load::{LoadWindow, RunFigures, log_in, login_storm, run_api_load, sign_up_users},
    latency::Latencies,
};
use reqwest::Method;

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// Base URL of the API server (loopback).
    #[arg(long, env = "API_URL")]
    api_url: String,
    /// Database the API server uses; pgbench runs against it too.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The hot reward: unlimited stock, condition-free event, a large
    /// perUserLimit so every user can claim again and again.
    #[arg(long)]
    reward_id: String,
    /// Also run the spread scenario (rewards made by `run.sh`).
    #[arg(long)]
    spread: bool,
    /// Sold-out reward of the storm scenario (stock 100, sold out during
    /// the warm-up); none: no storm run.
    #[arg(long)]
    storm_reward_id: Option<String>,
    /// Clients logging in back to back during a second hot run (the login
    /// storm: argon2id must not starve claims); 0: no such run.
    #[arg(long, default_value_t = 8)]
    login_clients: usize,
    /// ADMIN of the server (its ADMIN_EMAIL): the history scenario seeds
    /// 1 M claims and lists them; none: no history run.
    #[arg(long, env = "ADMIN_EMAIL")]
    admin_email: Option<String>,
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Concurrent connections for every run.
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
    /// Directory for the pgbench scripts and logs.
    #[arg(long, default_value = "target/bench-claims")]
    work_dir: PathBuf,
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
    let window = LoadWindow {
        warmup: Duration::from_secs(options.warmup_secs),
        measured: Duration::from_secs(options.duration_secs),
    };

    eprintln!("claims_bench: signing up {} users", options.connections);
    let tokens = sign_up_users(&options.api_url, options.connections).await?;
    println!(
        "claims benchmark, {} connections, {} s measured each",
        options.connections, options.duration_secs
    );
    println!("scenario  run              per sec     p50 ms     p99 ms    samples   API/baseline");

    eprintln!("claims_bench: hot: API, then pgbench (naive, then the claim statement)");
    let hot_url = vec![claim_url(&options.api_url, &options.reward_id)];
    let (hot, _) = run_api_load(window, &tokens, Method::POST, &hot_url, Some(201)).await?;
    let literal = format!("'{}'::uuid", options.reward_id);
    let naive = run_pgbench(&options, "hot-naive", &naive_pgbench_script("", &literal)).await?;
    // The statement is this build's: against an older server's schema
    // (API_SERVER_BIN) it may not run, and the other figures still count.
    match run_pgbench(&options, "hot-statement", &pgbench_script(&options.reward_id)).await {
        Ok(statement) => print_compared("hot", &hot, &[("naive tx", &naive), ("statement", &statement)]),
        Err(error) => {
            eprintln!("claims_bench: the claim statement did not run raw: {error:#}");
            print_compared("hot", &hot, &[("naive tx", &naive)]);
        }
    }
    let hot_rate = hot.per_sec;

    if options.spread {
        eprintln!("claims_bench: spread over {SPREAD_REWARDS} rewards: API, then pgbench (naive)");
        let urls: Vec<String> = (0..SPREAD_REWARDS)
            .map(|n| claim_url(&options.api_url, &spread_reward_id(n)))
            .collect();
        let (api, _) = run_api_load(window, &tokens, Method::POST, &urls, Some(201)).await?;
        let prelude = format!("\\set n random(0, {})\n", SPREAD_REWARDS - 1);
        let script = naive_pgbench_script(&prelude, &spread_reward_id_sql(":n"));
        let naive = run_pgbench(&options, "spread-naive", &script).await?;
        print_compared("spread", &api, &[("naive tx", &naive)]);
    }
    if options.login_clients > 0 {
        eprintln!(
            "claims_bench: login storm: {} clients log in during a hot run",
            options.login_clients
        );
        let clients = options.login_clients.min(tokens.len());
        let logins = login_storm(&options.api_url, clients, window);
        let claims = run_api_load(window, &tokens, Method::POST, &hot_url, Some(201));
        let (logins, claims) = tokio::join!(logins, claims);
        let (claims, _) = claims?;
        print_compared("login", &claims, &[]);
        println!(
            "login storm: {:.1} logins/s by {clients} clients; claims {:.2}x the hot run, p99 {:.2} ms (target < 50)",
            logins? as f64 / window.measured.as_secs_f64(),
            claims.per_sec / hot_rate,
            claims.p99_ms
        );
    }
    if let Some(storm_reward) = &options.storm_reward_id {
        eprintln!("claims_bench: storm on a sold-out reward: API");
        let urls = [claim_url(&options.api_url, storm_reward)];
        let (storm, statuses) = run_api_load(window, &tokens, Method::POST, &urls, None).await?;
        print_compared("storm", &storm, &[]);
        println!(
            "storm: {:.1} answers/s, {:.2}x the hot granting rate (target >= 2); answers by status {statuses:?}",
            storm.per_sec,
            storm.per_sec / hot_rate
        );
    }
    if let (Some(email), Some(password)) = (&options.admin_email, &options.admin_password) {
        run_history(&options, window, email, password).await?;
    }
    println!("targets: hot and spread API/naive tx >= 1.0 and API p99 < 50 ms");
    Ok(())
}

/// Seeds the ledger, then lists it as the ADMIN over every connection.
async fn run_history(
    options: &Options,
    window: LoadWindow,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    eprintln!(
        "claims_bench: history: seeding {} claims, then GET /claims/filter",
        claims_history::SEEDED_CLAIMS
    );
    let db = sqlx::PgPool::connect(&options.database_url)
        .await
        .context("connect to seed the ledger")?;
    for statement in claims_history::seed_sql(options.connections) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&db)
            .await
            .context("seed the ledger")?;
    }
    db.close().await;
    let token = log_in(&reqwest::Client::new(), &options.api_url, email, password).await?;
    let tokens = vec![token; options.connections];
    let urls = claims_history::filter_urls(&options.api_url);
    let (history, statuses) = run_api_load(window, &tokens, Method::GET, &urls, Some(200)).await?;
    print_compared("history", &history, &[]);
    println!(
        "history: GET /claims/filter p99 {:.2} ms over {} claims (target < 20); answers by status {statuses:?}",
        history.p99_ms,
        claims_history::SEEDED_CLAIMS
    );
    Ok(())
}

fn claim_url(api_url: &str, reward_id: &str) -> String {
    format!("{api_url}/claims/{reward_id}/claim")
}

/// The API row of a scenario, then each baseline with the API's ratio to it.
fn print_compared(scenario: &str, api: &RunFigures, baselines: &[(&str, &RunFigures)]) {
    print_row(scenario, "API (HTTP)", api, None);
    for (name, baseline) in baselines {
        print_row(scenario, name, baseline, Some(api.per_sec / baseline.per_sec));
    }
}

fn print_row(scenario: &str, run: &str, figures: &RunFigures, ratio: Option<f64>) {
    let ratio = ratio.map(|ratio| format!("{ratio:>14.2}")).unwrap_or_default();
    println!(
        "{scenario:<9} {run:<14} {:>10.1} {:>10.2} {:>10.2} {:>10}{ratio}",
        figures.per_sec, figures.p50_ms, figures.p99_ms, figures.samples
    );
}

/// `script` via pgbench: a warm-up run, then a measured run with
/// per-transaction logs for the percentiles.
async fn run_pgbench(options: &Options, name: &str, script: &str) -> anyhow::Result<RunFigures> {
    let script_path = options.work_dir.join(format!("{name}.sql"));
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
        per_sec: latencies.len() as f64 / options.duration_secs as f64,
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
