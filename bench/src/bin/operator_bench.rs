//! `operator_bench`: the operator at catalogue scale (issue 15), in both
//! modes, each figure next to a same-run baseline:
//!
//! * projection of `--events` Events and `--rewards-per-event` Rewards each
//!   into an empty database, against raw batched upserts of the same rows;
//! * lag from the `startsAt` they all share until the last is Active (row
//!   and status), against one raw UPDATE of every row;
//! * status lag after claims on one reward in 30;
//! * peak RSS.
//!
//! Run by hand (needs PostgreSQL at DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres); see bench/operator/README.md:
//! `cargo run --release -p liveops-bench --bin operator_bench -- --mode manifests`

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use liveops_bench::operator::{
    catalogue::Catalogue,
    child::{self, Role},
    cluster_run, manifests_run,
};

/// Which source to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Manifests,
    Cluster,
    Both,
}

/// Command-line options.
#[derive(Debug, Parser)]
struct Options {
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    mode: Mode,
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    #[arg(long, default_value_t = 3)]
    rewards_per_event: usize,
    /// Events (with their Rewards) per YAML file.
    #[arg(long, default_value_t = 100)]
    per_file: usize,
    /// Seconds from launch to the shared `startsAt`: loading must finish first.
    #[arg(long, default_value_t = 40)]
    lead: i64,
    /// Internal: run as the operator process the bench measures.
    #[arg(long, value_enum, hide = true)]
    child: Option<ChildMode>,
    /// Internal (`--child manifests`): the manifests directory.
    #[arg(long, hide = true)]
    dir: Option<PathBuf>,
    /// Internal (`--child cluster`): the fake API server's URL.
    #[arg(long, hide = true)]
    api: Option<String>,
    /// Internal (`--child`): the database to project into.
    #[arg(long, hide = true)]
    database_url: Option<String>,
}

/// What a `--child` process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ChildMode {
    Manifests,
    Cluster,
}

impl Options {
    fn catalogue(&self) -> Catalogue {
        Catalogue {
            events: self.events,
            rewards_per_event: self.rewards_per_event,
            starts_at: chrono::Utc::now() + chrono::Duration::seconds(self.lead),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let Some(mode) = options.child {
        let role = match mode {
            ChildMode::Manifests => Role::Manifests {
                dir: options.dir.context("--dir")?,
            },
            ChildMode::Cluster => Role::Cluster {
                api: options.api.context("--api")?,
            },
        };
        return child::run(role, &options.database_url.context("--database-url")?).await;
    }
    let work = std::env::temp_dir().join(format!("liveops-operator-bench-{}", std::process::id()));
    let result = async {
        if options.mode != Mode::Cluster {
            manifests_run::measure(&options.catalogue(), options.per_file, &work)
                .await?
                .print();
        }
        if options.mode != Mode::Manifests {
            cluster_run::measure(&options.catalogue()).await?.print();
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result
}
