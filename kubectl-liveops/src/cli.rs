//! The command line: `validate`, `status` and `explain-claim`, and where
//! each is dispatched.

use std::{io::Write, path::PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::{Result, Verdict, explain, status, validate};

/// kubectl plugin for liveops: `kubectl liveops validate|status|explain-claim`.
#[derive(Debug, Parser)]
#[command(name = "kubectl-liveops", bin_name = "kubectl liveops", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of `status` and `explain-claim`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every YAML document under DIR offline: the CRDs' schema, their
    /// CEL rules and the operator's own checks. Exit 1 when any problem.
    Validate {
        /// Directory of manifests (searched recursively for *.yaml/*.yml).
        dir: PathBuf,
    },
    /// Events with their phase, the countdown to their next transition and
    /// the stock of each reward; from the cluster, or from the database when
    /// a database URL is given.
    Status {
        /// Namespace (default: the kubeconfig's, or `default` with a database).
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Every namespace.
        #[arg(short = 'A', long, conflicts_with = "namespace")]
        all_namespaces: bool,
        /// Read the liveops database instead of the cluster.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        #[arg(short = 'o', long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Why USER can or cannot claim REWARD right now, from the database.
    /// Exit 0 when the claim would be granted, 1 when refused.
    ExplainClaim {
        /// User id, email or nickname.
        user: String,
        /// Reward id, or NAMESPACE/NAME (NAME alone: namespace `default`).
        reward: String,
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: String,
        #[arg(short = 'o', long, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

/// Runs one command, writing its report to stdout.
pub async fn run(cli: Cli) -> Result<Verdict> {
    let mut out = std::io::stdout().lock();
    let verdict = match cli.command {
        Command::Validate { dir } => validate::run(&dir, &mut out)?,
        Command::Status {
            namespace,
            all_namespaces,
            database_url,
            output,
        } => {
            let scope = status::Scope::from_flags(namespace, all_namespaces);
            status::run(scope, database_url.as_deref(), output, &mut out).await?
        }
        Command::ExplainClaim {
            user,
            reward,
            database_url,
            output,
        } => explain::run(&database_url, &user, &reward, output, &mut out).await?,
    };
    out.flush().map_err(|source| crate::Error::Io {
        path: PathBuf::from("<stdout>"),
        source,
    })?;
    Ok(verdict)
}
