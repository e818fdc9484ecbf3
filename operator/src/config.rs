//! Command-line flags and environment of the operator binary.
//!
//! Every flag mirrors an environment variable (DESIGN.md, "Interfaces that
//! scripts and operators rely on"); the Helm chart sets the variables.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

/// Reconciles Event and Reward resources into PostgreSQL, from a cluster or
/// from a directory of manifests.
#[derive(Debug, Parser)]
#[command(name = "operator", version, about)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Reconcile the Event/Reward YAML files under this directory instead of
    /// a cluster (no Kubernetes needed).
    #[arg(long = "manifests", env = "MANIFESTS_DIR", value_name = "DIR")]
    pub manifests: Option<PathBuf>,

    /// How manifests mode notices edits: inotify where available (`auto`),
    /// or a stat of every file four times a second (`poll`, for file
    /// systems without inotify such as NFS).
    #[arg(long, env = "MANIFESTS_WATCH", value_enum, default_value_t = ManifestsWatch::Auto)]
    pub manifests_watch: ManifestsWatch,

    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Address of the /healthz, /readyz and /metrics listener.
    #[arg(long, env = "OPERATOR_LISTEN_ADDR", default_value = "0.0.0.0:8081")]
    pub listen_addr: SocketAddr,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Elect a leader with a Lease so that only one replica reconciles.
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub leader_election: bool,

    /// Name of the Lease used for leader election.
    #[arg(long, env = "LEASE_NAME", default_value = "liveops-operator")]
    pub lease_name: String,

    /// Namespace of the Lease; defaults to POD_NAMESPACE, then the client's
    /// default namespace.
    #[arg(long, env = "LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Namespace the operator's pod runs in (set by the downward API).
    #[arg(long, env = "POD_NAMESPACE")]
    pub pod_namespace: Option<String>,

    /// Identity of this replica in the Lease and in recorded Events;
    /// defaults to the host name.
    #[arg(long, env = "POD_NAME")]
    pub pod_name: Option<String>,

    /// Watch only this namespace; all namespaces when unset.
    #[arg(long, env = "WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,
}

/// Subcommands besides the default (run the operator).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the CustomResourceDefinition YAML that `crds/` holds.
    Crd,
}

/// How manifests mode notices edits to its directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ManifestsWatch {
    /// inotify, falling back to polling when it is unavailable.
    Auto,
    /// Polling only.
    Poll,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Config {
    /// Namespace of the leader-election Lease, if configured.
    pub fn lease_namespace(&self) -> Option<&str> {
        non_empty(&self.lease_namespace).or(non_empty(&self.pod_namespace))
    }

    /// The one namespace to watch; `None` (also for an empty value) means all.
    pub fn watch_namespace(&self) -> Option<&str> {
        non_empty(&self.watch_namespace)
    }

    /// Identity of this replica: `POD_NAME`, else the host name, else a
    /// random id (two replicas must never share one).
    pub fn identity(&self) -> String {
        if let Some(name) = self.pod_name.as_deref().filter(|name| !name.is_empty()) {
            return name.to_owned();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|host| host.trim().to_owned())
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| format!("operator-{}", uuid::Uuid::new_v4().simple()))
    }
}

/// An environment variable set to "" counts as unset.
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Command, Config, LogFormat, ManifestsWatch};

    #[test]
    fn defaults_listen_on_8081_without_leader_election() {
        let config = Config::try_parse_from(["operator"]).expect("parse");
        assert_eq!(config.listen_addr.to_string(), "0.0.0.0:8081");
        assert!(!config.leader_election);
        assert_eq!(config.lease_name, "liveops-operator");
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.manifests_watch, ManifestsWatch::Auto);
        assert!(config.command.is_none());
    }

    #[test]
    fn parses_the_crd_subcommand_and_flags() {
        let config = Config::try_parse_from([
            "operator",
            "--manifests",
            "examples",
            "--leader-election",
            "true",
            "--log-format",
            "json",
            "--pod-namespace",
            "ops",
            "--pod-name",
            "op-0",
            "crd",
        ])
        .expect("parse");
        assert!(matches!(config.command, Some(Command::Crd)));
        assert_eq!(
            config.manifests.as_deref(),
            Some(std::path::Path::new("examples"))
        );
        assert!(config.leader_election);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.lease_namespace(), Some("ops"));
        assert_eq!(config.identity(), "op-0");
    }

    #[test]
    fn lease_namespace_prefers_its_own_setting() {
        let config = Config::try_parse_from(["operator", "--lease-namespace", "a", "--pod-namespace", "b"])
            .expect("parse");
        assert_eq!(config.lease_namespace(), Some("a"));
    }

    #[test]
    fn empty_namespaces_count_as_unset() {
        let config = Config::try_parse_from(["operator", "--watch-namespace", "", "--lease-namespace", ""])
            .expect("parse");
        assert_eq!(config.watch_namespace(), None);
        assert_eq!(
            config.lease_namespace(),
            config.pod_namespace.as_deref().filter(|ns| !ns.is_empty())
        );
    }
}
