//! `kubectl-liveops`: run as `kubectl liveops ...` once on PATH.

use std::process::ExitCode;

use clap::Parser;
use kubectl_liveops::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code.into(),
        Err(error) => {
            eprintln!("kubectl-liveops: {error}");
            kubectl_liveops::Verdict::Usage.into()
        }
    }
}
