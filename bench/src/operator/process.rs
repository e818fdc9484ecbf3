//! The operator bench's view of the operator process (see `child`): start
//! it, read its resident memory from `/proc/PID/status`, stop it.

use std::{process::Stdio, time::Duration};

use anyhow::{Context as _, ensure};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdin, Command},
};

use super::child::READY;

/// The operator running in a child process.
pub struct OperatorProcess {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    /// Resident memory once connected, before the operator started.
    pub rss_before_mib: u64,
}

/// Within this, the child stops after its standard input closes.
const STOP_WITHIN: Duration = Duration::from_secs(60);

impl OperatorProcess {
    /// Starts this executable again with `args` (the `--child` options) and
    /// waits until it is connected and about to start the operator.
    ///
    /// `OPERATOR_BENCH_WRAP` (e.g. `heaptrack -o /tmp/op`) runs the child
    /// under a profiler; its memory figures are then the wrapper's.
    pub async fn start(args: &[String]) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("the bench's own path")?;
        let wrap = std::env::var("OPERATOR_BENCH_WRAP").unwrap_or_default();
        let mut words = wrap.split_whitespace();
        let mut command = match words.next() {
            Some(wrapper) => {
                let mut command = Command::new(wrapper);
                command.args(words).arg(&exe);
                command
            }
            None => Command::new(&exe),
        };
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the operator process")?;
        let pid = child.id().context("the operator process's id")?;
        let stdout = child.stdout.take().context("the operator's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            if line == READY {
                break;
            }
        }
        let stdin = child.stdin.take();
        let mut process = Self {
            child,
            pid,
            stdin,
            rss_before_mib: 0,
        };
        process.rss_before_mib = process.status_kib("VmRSS:") / 1024;
        // Anything else the child prints goes nowhere; keep the pipe open.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(process)
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The operator process's peak resident memory so far (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> u64 {
        self.status_kib("VmHWM:") / 1024
    }

    /// Closes the child's standard input and waits for it to stop cleanly.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.stdin.take());
        let status = tokio::time::timeout(STOP_WITHIN, self.child.wait())
            .await
            .context("the operator process did not stop")??;
        ensure!(status.success(), "the operator process failed: {status}");
        Ok(())
    }
}
