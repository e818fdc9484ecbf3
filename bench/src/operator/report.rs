//! One mode's figures, printed next to their same-run baselines.

use std::time::Duration;

/// What one mode measured.
#[derive(Debug)]
pub struct Report {
    pub mode: &'static str,
    pub events: usize,
    pub rewards: usize,
    /// From start until every row is in PostgreSQL.
    pub rows: Duration,
    /// From start until every status is written.
    pub statuses: Duration,
    /// The same rows by raw batched upserts.
    pub baseline: Duration,
    /// `startsAt` to the last row's Active write (database clock).
    pub flip_lag_ms: f64,
    /// `startsAt` to every status showing Active.
    pub status_flip_lag: Duration,
    /// One raw UPDATE of every row.
    pub raw_flip: Duration,
    /// Claims committed to every claimed reward's status showing them.
    pub claims_lag: Duration,
    pub claimed_rewards: i64,
    /// The operator process's resident memory once connected, before it loads anything.
    pub rss_before_mib: u64,
    /// The operator process's peak resident memory (`VmHWM`).
    pub peak_rss_mib: u64,
}

impl Report {
    pub fn print(&self) {
        let Self {
            mode,
            events,
            rewards,
            ..
        } = self;
        println!("{mode} mode, {events} Events and {rewards} Rewards into an empty database");
        println!(
            "  projection: rows in {:.2} s, statuses in {:.2} s; baseline raw batched upserts {:.2} s; \
             ratio baseline/operator (rows) {:.2} (target >= 0.9)",
            self.rows.as_secs_f64(),
            self.statuses.as_secs_f64(),
            self.baseline.as_secs_f64(),
            self.baseline.as_secs_f64() / self.rows.as_secs_f64().max(1e-9),
        );
        println!(
            "  shared startsAt: last row Active {:.0} ms after it (target <= 1000 ms), every status Active \
             after {:.0} ms; baseline one raw UPDATE of every row {:.0} ms",
            self.flip_lag_ms,
            self.status_flip_lag.as_secs_f64() * 1000.0,
            self.raw_flip.as_secs_f64() * 1000.0,
        );
        println!(
            "  status lag after claims on {} rewards: {:.2} s (change-driven pass every 2 s)",
            self.claimed_rewards,
            self.claims_lag.as_secs_f64(),
        );
        println!(
            "  operator process RSS: {} MiB connected, before loading; peak {} MiB (target < 100 MB = {:.0} MiB)",
            self.rss_before_mib,
            self.peak_rss_mib,
            100e6 / 1_048_576.0,
        );
    }
}
