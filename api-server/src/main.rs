//! Entry point of the `api-server` binary: parse, set up logging, run.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = api_server::config::Cli::parse();
    api_server::telemetry::init_logging(cli.config.log_format);
    match api_server::startup::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("api-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}
