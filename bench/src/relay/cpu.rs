//! CPU time spent during a drain run by the bench process (the relay loop
//! or the raw publisher, both in-process), PostgreSQL and the broker, read
//! from `/proc`. On a shared 2-core machine the rates swing with whatever
//! else runs; CPU time per message barely does, and says where the work
//! goes. PostgreSQL counts its background processes (WAL writer,
//! checkpointer, autovacuum) and the sessions of the run's own database,
//! not those of other databases on the same server. A process that starts
//! and ends within the run is missed (an autovacuum worker, say), so
//! PostgreSQL's figure is a floor.

use std::{collections::HashMap, fs};

/// Process names whose CPU time is summed, and under which heading.
const WATCHED: [(&str, Part); 3] = [
    ("postgres", Part::Postgres),
    ("nats-server", Part::Broker),
    ("beam.smp", Part::Broker),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Bench,
    Postgres,
    Broker,
}

/// CPU ticks of every watched process at one instant.
#[derive(Debug, Clone)]
pub struct CpuSample {
    ticks: HashMap<u32, (Part, u64)>,
}

/// CPU seconds spent between two samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// This process: the relay loop or the raw publisher.
    pub bench: f64,
    /// Every PostgreSQL process.
    pub postgres: f64,
    /// The broker's server.
    pub broker: f64,
}

impl CpuUse {
    /// Both summed.
    pub fn plus(self, other: CpuUse) -> CpuUse {
        CpuUse {
            bench: self.bench + other.bench,
            postgres: self.postgres + other.postgres,
            broker: self.broker + other.broker,
        }
    }

    /// Microseconds of CPU per message, each part and the total.
    pub fn per_message_micros(&self, messages: i64) -> [f64; 4] {
        let per = |seconds: f64| seconds * 1e6 / messages as f64;
        [
            per(self.bench),
            per(self.postgres),
            per(self.broker),
            per(self.bench + self.postgres + self.broker),
        ]
    }
}

impl CpuSample {
    /// Reads every watched process and this one; of PostgreSQL's client
    /// sessions, those of `database` only.
    pub fn now(database: &str) -> Self {
        let own = std::process::id();
        let mut ticks = HashMap::new();
        let Ok(entries) = fs::read_dir("/proc") else {
            return Self { ticks };
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
            else {
                continue;
            };
            let Some((name, cpu)) = stat(pid) else {
                continue;
            };
            let part = if pid == own {
                Some(Part::Bench)
            } else {
                WATCHED
                    .iter()
                    .find(|(watched, _)| *watched == name)
                    .map(|(_, part)| *part)
            };
            if part == Some(Part::Postgres) && !serves(pid, database) {
                continue;
            }
            if let Some(part) = part {
                ticks.insert(pid, (part, cpu));
            }
        }
        Self { ticks }
    }

    /// What was spent from `earlier` to this sample; a process absent
    /// earlier counts from its start.
    pub fn since(&self, earlier: &CpuSample) -> CpuUse {
        let hertz = 100.0; // USER_HZ on Linux
        let mut spent = CpuUse::default();
        for (pid, (part, now)) in &self.ticks {
            let before = earlier.ticks.get(pid).map_or(0, |(_, ticks)| *ticks);
            let seconds = now.saturating_sub(before) as f64 / hertz;
            match part {
                Part::Bench => spent.bench += seconds,
                Part::Postgres => spent.postgres += seconds,
                Part::Broker => spent.broker += seconds,
            }
        }
        spent
    }
}

/// The name and user + system ticks of process `pid`.
fn stat(pid: u32) -> Option<(String, u64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    // After the name: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = text.get(close + 2..)?.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// Whether PostgreSQL process `pid` works for `database`: a background
/// process, or a client session (its title names the client's address)
/// connected to it.
fn serves(pid: u32, database: &str) -> bool {
    let Ok(title) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let title = String::from_utf8_lossy(&title);
    let session = title.contains("127.0.0.1(") || title.contains("[local]") || title.contains("::1(");
    !session || title.split_whitespace().any(|word| word == database)
}
