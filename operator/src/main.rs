//! Entry point of the `operator` binary: parse the configuration, then run.
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = operator::config::Config::parse();
    operator::startup::run(config).await
}
