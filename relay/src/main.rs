//! Entry point of the `relay` binary: parse, set up logging, run.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = relay::config::Cli::parse();
    relay::telemetry::init_logging(cli.config.log_format);
    match relay::startup::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("relay: {error:#}");
            ExitCode::FAILURE
        }
    }
}
