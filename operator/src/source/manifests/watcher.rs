//! When to rescan the manifests directory: on inotify (via `notify`) events,
//! debounced, or on a fixed poll where no native watcher can be had.
//!
//! A rescan is cheap only when nothing changed (a `stat` per file), so the
//! native watcher lets the loop sleep until an editor or `git pull` touches
//! the tree. Editors and checkouts write in bursts (temp file, rename,
//! chmod), hence the debounce: one rescan for the burst, not one per write.
//! The native watcher still gets a slow safety rescan, because inotify can
//! drop events (queue overflow, a directory replaced wholesale).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Poll period when no native watcher is available.
pub const POLL: Duration = Duration::from_millis(250);
/// Quiet time after the last filesystem event before the rescan.
pub const DEBOUNCE: Duration = Duration::from_millis(40);
/// Upper bound on how long a continuous burst can delay the rescan.
pub const DEBOUNCE_MAX: Duration = Duration::from_millis(150);
/// Safety rescan period with a native watcher.
pub const SAFETY_RESCAN: Duration = Duration::from_secs(30);

/// Yields once per batch of changes to the directory.
///
/// [`changed`](Self::changed) is cancel-safe, as `select!` needs: a burst
/// already seen and the safety deadline live in `self`, so a cancelled wait
/// resumes where it stopped instead of losing the wake-up.
pub struct DirectoryWatcher {
    mode: Mode,
}

enum Mode {
    Native {
        /// Must stay alive for events to keep coming.
        _watcher: notify::RecommendedWatcher,
        changes: mpsc::Receiver<()>,
        /// When the burst being debounced began.
        burst: Option<Instant>,
        /// When to rescan even if nothing was reported.
        safety: Instant,
    },
    Polling(tokio::time::Interval),
}

impl DirectoryWatcher {
    /// A native watcher on `dir` (recursive), or polling when that fails.
    pub fn new(dir: &Path) -> Self {
        match native(dir) {
            Ok((watcher, changes)) => {
                tracing::info!(dir = %dir.display(), "manifests mode: watching with inotify");
                Self {
                    mode: Mode::Native {
                        _watcher: watcher,
                        changes,
                        burst: None,
                        safety: Instant::now() + SAFETY_RESCAN,
                    },
                }
            }
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, poll_ms = POLL.as_millis() as u64,
                    "manifests mode: no native file watcher, polling instead");
                Self::polling()
            }
        }
    }

    /// A watcher that polls every [`POLL`], whatever the platform offers.
    pub fn polling() -> Self {
        let mut interval = tokio::time::interval(POLL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            mode: Mode::Polling(interval),
        }
    }

    /// Whether changes come from the operating system rather than a poll.
    pub fn is_native(&self) -> bool {
        matches!(self.mode, Mode::Native { .. })
    }

    /// Waits until the directory should be rescanned.
    pub async fn changed(&mut self) {
        match &mut self.mode {
            Mode::Polling(interval) => {
                interval.tick().await;
            }
            Mode::Native {
                changes,
                burst,
                safety,
                ..
            } => {
                if burst.is_none() {
                    match tokio::time::timeout_at((*safety).into(), changes.recv()).await {
                        Ok(_) => *burst = Some(Instant::now()),
                        Err(_) => {
                            *safety = Instant::now() + SAFETY_RESCAN;
                            return;
                        }
                    }
                }
                let began = burst.unwrap_or_else(Instant::now);
                settle(changes, began + DEBOUNCE_MAX).await;
                *burst = None;
                *safety = Instant::now() + SAFETY_RESCAN;
            }
        }
    }
}

/// Waits for [`DEBOUNCE`] of quiet, or until `deadline`.
async fn settle(changes: &mut mpsc::Receiver<()>, deadline: Instant) {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match tokio::time::timeout(DEBOUNCE.min(left), changes.recv()).await {
            Ok(Some(())) => continue,
            Ok(None) | Err(_) => return,
        }
    }
}

fn native(dir: &Path) -> notify::Result<(notify::RecommendedWatcher, mpsc::Receiver<()>)> {
    // Capacity 1: a pending wake-up already covers every later event.
    let (wake, changes) = mpsc::channel(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // An error (e.g. queue overflow) also means "look again".
        if !matches!(&event, Ok(event) if event.kind.is_access()) {
            let _ = wake.try_send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    Ok((watcher, changes))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Waits for one wake-up, or fails after a generous deadline.
    async fn woken(watcher: &mut DirectoryWatcher) -> bool {
        tokio::time::timeout(Duration::from_secs(10), watcher.changed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_new_file_wakes_the_native_watcher() {
        let dir = tempfile_dir("new-file");
        let mut watcher = DirectoryWatcher::new(&dir);
        assert!(watcher.is_native(), "inotify should be available on Linux");
        std::fs::write(dir.join("event.yaml"), "kind: Event\n").expect("write");
        assert!(woken(&mut watcher).await, "no wake-up after a file was written");
    }

    #[tokio::test]
    async fn an_edit_in_a_subdirectory_wakes_the_native_watcher() {
        let dir = tempfile_dir("nested");
        std::fs::create_dir_all(dir.join("team/a")).expect("mkdir");
        let mut watcher = DirectoryWatcher::new(&dir);
        std::fs::write(dir.join("team/a/reward.yaml"), "kind: Reward\n").expect("write");
        assert!(woken(&mut watcher).await, "no wake-up after a nested write");
    }

    #[tokio::test]
    async fn a_wait_cancelled_mid_burst_still_ends_in_a_wake_up() {
        let dir = tempfile_dir("cancelled");
        let mut watcher = DirectoryWatcher::new(&dir);
        std::fs::write(dir.join("event.yaml"), "kind: Event\n").expect("write");
        // Cancel the wait as soon as the burst has been seen (before the
        // debounce ends), as a select! whose other branch fires would.
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if tokio::time::timeout(DEBOUNCE / 4, watcher.changed())
                    .await
                    .is_ok()
                {
                    return true; // woke before any cancel: nothing left to prove
                }
                if matches!(watcher.mode, Mode::Native { burst: Some(_), .. }) {
                    return false;
                }
            }
        });
        let woke_already = seen.await.expect("the write was never seen");
        assert!(
            woke_already || woken(&mut watcher).await,
            "the cancelled burst was lost"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn polling_wakes_every_period() {
        let mut watcher = DirectoryWatcher::polling();
        watcher.changed().await; // the first tick is immediate
        let before = tokio::time::Instant::now();
        watcher.changed().await;
        assert_eq!(before.elapsed(), POLL);
    }

    fn tempfile_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("liveops-watch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }
}
