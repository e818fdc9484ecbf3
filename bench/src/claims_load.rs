//! HTTP load of `claims_bench`: bench users signed up through the API, one
//! keep-alive connection per user sending requests back to back, a login
//! storm beside it, and what a run measured.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::latency::Latencies;

/// Password of every bench user.
const BENCH_PASSWORD: &str = "bench-password-1";

/// What one run measured.
#[derive(Debug)]
pub struct RunFigures {
    /// Counted answers (grants, or every answer; see [`run_api_load`]) or
    /// transactions per second.
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub samples: usize,
}

/// Unmeasured warm-up, then the measured window.
#[derive(Debug, Clone, Copy)]
pub struct LoadWindow {
    pub warmup: Duration,
    pub measured: Duration,
}

/// Bench user `n` of this process.
fn bench_email(n: usize) -> String {
    format!("bench-{}-{n}@example.com", std::process::id())
}

/// Signs up and logs in `count` users; returns their access tokens.
pub async fn sign_up_users(api_url: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(count);
    for n in 0..count {
        let email = bench_email(n);
        let signup = client
            .post(format!("{api_url}/auth/signup"))
            .json(&json!({"email": email, "password": BENCH_PASSWORD, "birthDate": "1990-01-01"}))
            .send()
            .await
            .context("signup request")?;
        ensure!(
            signup.status().is_success(),
            "signup of {email}: {}",
            signup.text().await.unwrap_or_default()
        );
        tokens.push(log_in(&client, api_url, &email, BENCH_PASSWORD).await?);
    }
    Ok(tokens)
}

/// Logs in; returns the access token.
pub async fn log_in(
    client: &reqwest::Client,
    api_url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
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
    Ok(token.to_owned())
}

/// `clients` bench users logging in back to back for the warm-up and the
/// window starting now; returns the logins granted inside the window.
pub async fn login_storm(api_url: &str, clients: usize, window: LoadWindow) -> anyhow::Result<u64> {
    let starts = Instant::now() + window.warmup;
    let ends = starts + window.measured;
    let mut tasks = Vec::new();
    for n in 0..clients {
        let url = format!("{api_url}/auth/login");
        let body = json!({"email": bench_email(n), "password": BENCH_PASSWORD});
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        tasks.push(tokio::spawn(async move {
            let mut granted = 0u64;
            while Instant::now() < ends {
                let sent = client.post(&url).json(&body).send().await;
                let ok = matches!(&sent, Ok(response) if response.status().is_success());
                if let Ok(response) = sent {
                    let _ = response.bytes().await;
                }
                let now = Instant::now();
                if ok && now >= starts && now <= ends {
                    granted += 1;
                }
            }
            granted
        }));
    }
    let mut granted = 0;
    for task in tasks {
        granted += task.await.context("login task")?;
    }
    Ok(granted)
}

/// One connection per token, each sending `method` to `urls` in turn (each
/// task from its own offset) until the window ends; samples after the
/// warm-up count. The rate is of `counted` answers, or of every answer
/// when `counted` is `None`; also returns the answers by status.
pub async fn run_api_load(
    window: LoadWindow,
    tokens: &[String],
    method: Method,
    urls: &[String],
    counted: Option<u16>,
) -> anyhow::Result<(RunFigures, BTreeMap<u16, u64>)> {
    let warmup_ends = Instant::now() + window.warmup;
    let run_ends = warmup_ends + window.measured;
    let mut tasks = Vec::new();
    for (task_no, token) in tokens.iter().enumerate() {
        let (urls, token, method) = (urls.to_vec(), token.clone(), method.clone());
        // One client per task: its own keep-alive connection.
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            for turn in task_no.. {
                let started = Instant::now();
                if started >= run_ends {
                    break;
                }
                let url = &urls[(turn * 7) % urls.len()];
                let response = client
                    .request(method.clone(), url)
                    .bearer_auth(&token)
                    .send()
                    .await;
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
    let answers = match counted {
        Some(status) => statuses.get(&status).copied().unwrap_or(0),
        None => latencies.len() as u64,
    };
    ensure!(answers > 0, "no counted answer ({counted:?}): {statuses:?}");
    let figures = RunFigures {
        per_sec: answers as f64 / window.measured.as_secs_f64(),
        p50_ms: latencies.percentile_ms(50.0),
        p99_ms: latencies.percentile_ms(99.0),
        samples: latencies.len(),
    };
    Ok((figures, statuses))
}
