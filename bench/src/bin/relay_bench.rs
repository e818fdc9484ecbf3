//! `relay_bench`: the outbox relay against real brokers (issue 11), each
//! figure next to its target:
//!
//! * drain rate of a `--messages` backlog, against a raw pipelined publish
//!   of the same messages to the same broker (ratio, target >= 0.6), on
//!   NATS JetStream and on RabbitMQ, `--rounds` rounds each;
//! * claim-commit to broker-ack latency while `--claimers` run the claim
//!   statement back to back, on NATS (p99, target <= 150 ms).
//!
//! Run by hand (PostgreSQL at DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; NATS at NATS_URL; RabbitMQ
//! at AMQP_URL); see bench/README.md:
//! `DATABASE_URL=... cargo run --release -p liveops-bench --bin relay_bench`

use std::time::Duration;

use anyhow::ensure;
use clap::Parser;
use liveops_bench::relay::{
    broker::Broker,
    cpu::CpuUse,
    drain::{DrainRun, Round},
    latency,
};
use liveops_testkit::TestDb;
use relay::config::TransportKind;

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    /// NATS server with JetStream.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// RabbitMQ server.
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// Brokers whose drain rate is measured.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "nats,amqp")]
    transports: Vec<TransportKind>,
    /// Backlog drained by the relay, then published raw (or the reverse).
    #[arg(long, default_value_t = 50_000)]
    messages: i64,
    /// Drain rounds per broker; the relay goes first in odd ones.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// RELAY_BATCH_SIZE of the relay runs.
    #[arg(long, default_value_t = 500)]
    batch_size: i64,
    /// Unacknowledged publishes of the raw run.
    #[arg(long, default_value_t = 1_000)]
    window: usize,
    /// RELAY_RETENTION_SECONDS of the drain runs (0, the relay's default,
    /// deletes each row at its ack; more marks rows and keeps them).
    #[arg(long, default_value_t = 0)]
    retention_secs: u64,
    /// Concurrent claim loops of the latency run (0 skips it).
    #[arg(long, default_value_t = 16)]
    claimers: usize,
    /// Seconds of claim load.
    #[arg(long, default_value_t = 20)]
    load_secs: u64,
}

impl Options {
    fn broker(&self, kind: TransportKind) -> Broker {
        let url = match kind {
            TransportKind::Amqp => self.amqp_url.clone(),
            TransportKind::Nats | TransportKind::None => self.nats_url.clone(),
        };
        Broker { kind, url }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    ensure!(
        options.messages > 0 && options.rounds > 0,
        "--messages and --rounds must be positive"
    );
    ensure!(
        !options.transports.contains(&TransportKind::None),
        "--transports takes nats and amqp"
    );

    let mut drained = Vec::new();
    for &kind in &options.transports {
        let broker = options.broker(kind);
        let db = TestDb::new().await;
        let run = DrainRun {
            db: &db.pool,
            database_url: &db.url,
            broker: broker.clone(),
            count: options.messages,
            batch_size: options.batch_size,
            window: options.window,
            retention: Duration::from_secs(options.retention_secs),
        };
        let mut rounds = Vec::new();
        for round in 0..options.rounds {
            eprintln!(
                "relay_bench: {}, round {}: relay and raw publish of {} messages",
                broker.label(),
                round + 1,
                options.messages
            );
            rounds.push(run.round(round).await?);
        }
        drained.push((broker, rounds));
    }

    let load = if options.claimers > 0 {
        let load_db = TestDb::new().await;
        let reward_id = latency::prepare(&load_db.pool, options.claimers).await?;
        eprintln!(
            "relay_bench: {} claimers for {} s with the relay publishing to NATS",
            options.claimers, options.load_secs
        );
        Some(
            latency::run(
                &load_db.pool,
                &load_db.url,
                &options.nats_url,
                reward_id,
                options.claimers,
                Duration::from_secs(options.load_secs),
                options.batch_size,
            )
            .await?,
        )
    } else {
        None
    };

    println!(
        "relay benchmark, binary mode, batch {}, {} messages, raw window {}, retention {} s",
        options.batch_size, options.messages, options.window, options.retention_secs
    );
    for (broker, rounds) in &drained {
        print_drain(broker, options.messages, rounds);
    }
    if let Some(mut load) = load {
        println!(
            "claim load (NATS): {:.0} claims/s, {} events seen, {} missing",
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
    }
    Ok(())
}

/// Each round's rates and ratio, the ratio of the summed times, and the
/// CPU time per message of both.
fn print_drain(broker: &Broker, count: i64, rounds: &[Round]) {
    println!("{}:", broker.label());
    for (index, round) in rounds.iter().enumerate() {
        let first = if index % 2 == 0 {
            "relay first"
        } else {
            "raw first"
        };
        println!(
            "  round {} ({first}): relay {:.0} msg/s, raw pipelined publish {:.0} msg/s, ratio {:.2}",
            index + 1,
            round.relay.per_sec,
            round.raw.per_sec,
            round.ratio()
        );
    }
    // Same message count per round: the ratio of harmonic means is the
    // ratio of total times, raw over relay.
    let time = |rate: fn(&Round) -> f64| rounds.iter().map(|round| 1.0 / rate(round)).sum::<f64>();
    let ratio = time(|round| round.raw.per_sec) / time(|round| round.relay.per_sec);
    println!("  ratio relay / raw over all rounds: {ratio:.2} (target >= 0.6)");
    let messages = count * i64::try_from(rounds.len()).unwrap_or(1);
    let relay = rounds
        .iter()
        .fold(CpuUse::default(), |sum, round| sum.plus(round.relay.cpu));
    let raw = rounds
        .iter()
        .fold(CpuUse::default(), |sum, round| sum.plus(round.raw.cpu));
    for (name, cpu) in [("relay", relay), ("raw  ", raw)] {
        let [bench, postgres, broker, total] = cpu.per_message_micros(messages);
        println!(
            "  CPU per message, {name}: {total:.1} us (bench process {bench:.1}, postgres {postgres:.1}, broker {broker:.1})"
        );
    }
}
