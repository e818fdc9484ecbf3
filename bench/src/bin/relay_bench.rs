//! `relay_bench`: the outbox relay against a real NATS JetStream (issue
//! 11), each figure next to its target:
//!
//! * drain rate of a `--messages` backlog, against a raw pipelined publish
//!   of the same messages to the same server (ratio, target >= 0.6);
//! * claim-commit to broker-ack latency while `--claimers` run the claim
//!   statement back to back (p99, target <= 150 ms).
//!
//! Run by hand (PostgreSQL at DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; NATS at NATS_URL); see
//! bench/README.md:
//! `DATABASE_URL=... cargo run --release -p liveops-bench --bin relay_bench`

use std::time::Duration;

use anyhow::ensure;
use clap::Parser;
use liveops_bench::relay::{drain, latency};
use liveops_testkit::TestDb;

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// NATS server with JetStream.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Backlog drained by the relay, then published raw.
    #[arg(long, default_value_t = 50_000)]
    messages: i64,
    /// RELAY_BATCH_SIZE of the relay runs.
    #[arg(long, default_value_t = 500)]
    batch_size: i64,
    /// Unacknowledged publishes of the raw run.
    #[arg(long, default_value_t = 1_000)]
    window: usize,
    /// Concurrent claim loops of the latency run.
    #[arg(long, default_value_t = 16)]
    claimers: usize,
    /// Seconds of claim load.
    #[arg(long, default_value_t = 20)]
    load_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    ensure!(
        options.messages > 0 && options.claimers > 0,
        "--messages and --claimers must be positive"
    );

    let drain_db = TestDb::new().await;
    eprintln!("relay_bench: relay drains {} rows", options.messages);
    let relayed = drain::relay_rate(
        &drain_db.pool,
        &drain_db.url,
        &options.nats_url,
        options.messages,
        options.batch_size,
    )
    .await?;
    eprintln!(
        "relay_bench: raw publish of the same messages, window {}",
        options.window
    );
    let raw = drain::raw_rate(&drain_db.url, &options.nats_url, options.window).await?;

    let load_db = TestDb::new().await;
    let reward_id = latency::prepare(&load_db.pool, options.claimers).await?;
    eprintln!(
        "relay_bench: {} claimers for {} s with the relay publishing",
        options.claimers, options.load_secs
    );
    let mut load = latency::run(
        &load_db.pool,
        &load_db.url,
        &options.nats_url,
        reward_id,
        options.claimers,
        Duration::from_secs(options.load_secs),
        options.batch_size,
    )
    .await?;

    println!(
        "relay benchmark, NATS JetStream (file storage), binary mode, batch {}",
        options.batch_size
    );
    println!("drain: relay {relayed:.0} msg/s, raw pipelined publish {raw:.0} msg/s");
    println!("ratio relay / raw: {:.2} (target >= 0.6)", relayed / raw);
    println!(
        "claim load: {:.0} claims/s, {} events seen, {} missing",
        load.claims_per_sec,
        load.latencies.len(),
        load.missing
    );
    println!(
        "commit-to-ack latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 <= 150 ms)",
        load.latencies.percentile_ms(50.0),
        load.latencies.percentile_ms(99.0),
        load.latencies.percentile_ms(100.0)
    );
    Ok(())
}
