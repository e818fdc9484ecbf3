//! Exponential backoff with jitter, for reconnecting to the broker and for
//! retrying a refused row, so many relays (or rows) never retry in lockstep.

use std::time::Duration;

use rand::Rng;

/// Delays doubling from `initial` up to `max`; each delay is drawn from its
/// upper half ("equal jitter"), so it never collapses to zero.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff starting at `initial` and capped at `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            failures: 0,
        }
    }

    /// The delay before the next try; each call doubles the next one.
    pub fn next_delay(&mut self) -> Duration {
        let delay = delay_after(self.initial, self.max, self.failures);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// The jittered delay after `failures` earlier failures.
pub fn delay_after(initial: Duration, max: Duration, failures: u32) -> Duration {
    let ceiling = initial
        .saturating_mul(2u32.saturating_pow(failures.min(30)))
        .min(max);
    let half = ceiling / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Backoff, delay_after};

    #[test]
    fn delays_double_stay_in_their_upper_half_and_stop_at_the_cap() {
        let (initial, max) = (Duration::from_millis(100), Duration::from_secs(5));
        for failures in 0..40 {
            let ceiling = (initial * 2u32.pow(failures.min(10))).min(max);
            let delay = delay_after(initial, max, failures);
            assert!(delay >= ceiling / 2 && delay <= ceiling, "{failures}: {delay:?}");
        }
    }

    #[test]
    fn reset_starts_over_from_the_initial_delay() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(60));
        for _ in 0..10 {
            backoff.next_delay();
        }
        assert!(backoff.next_delay() >= Duration::from_secs(5));
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(10));
    }
}
