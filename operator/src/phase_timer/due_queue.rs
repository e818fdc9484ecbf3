//! The due-queue behind the phase timer: event rows ordered by the instant
//! their phase changes next, each row at most once, so that every row due
//! at one instant comes out together (one batched UPDATE per instant).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Rows by next boundary. Pure data: the timer task owns the clock.
#[derive(Debug, Default)]
pub struct DueQueue {
    by_instant: BTreeMap<DateTime<Utc>, HashSet<Uuid>>,
    instant_of: HashMap<Uuid, DateTime<Utc>>,
}

impl DueQueue {
    /// Puts `id` at `at` (replacing where it was), or takes it out when
    /// `at` is `None`. True when the earliest instant moved earlier, i.e.
    /// a timer sleeping until the old earliest must wake up.
    pub fn schedule(&mut self, id: Uuid, at: Option<DateTime<Utc>>) -> bool {
        let earliest = self.next_at();
        if let Some(previous) = self.instant_of.remove(&id) {
            self.detach(id, previous);
        }
        let Some(at) = at else {
            return false;
        };
        self.instant_of.insert(id, at);
        self.by_instant.entry(at).or_default().insert(id);
        earliest.is_none_or(|earliest| at < earliest)
    }

    /// The earliest instant a row is due.
    pub fn next_at(&self) -> Option<DateTime<Utc>> {
        self.by_instant.keys().next().copied()
    }

    /// Removes and returns every row due at or before `now`.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Uuid> {
        let later = self
            .by_instant
            .split_off(&(now + chrono::Duration::nanoseconds(1)));
        let due = std::mem::replace(&mut self.by_instant, later);
        let ids: Vec<Uuid> = due.into_values().flatten().collect();
        for id in &ids {
            self.instant_of.remove(id);
        }
        ids
    }

    /// Rows waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.instant_of.len()
    }

    /// True when no row waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.instant_of.is_empty()
    }

    fn detach(&mut self, id: Uuid, at: DateTime<Utc>) {
        if let Some(ids) = self.by_instant.get_mut(&at) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_instant.remove(&at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use uuid::Uuid;

    use super::DueQueue;

    fn at(seconds: i64) -> chrono::DateTime<Utc> {
        Utc.timestamp_opt(1_900_000_000, 0).unwrap() + Duration::seconds(seconds)
    }

    #[test]
    fn rows_sharing_an_instant_come_out_together_and_later_ones_stay() {
        let mut queue = DueQueue::default();
        let shared: Vec<Uuid> = (0..3_000).map(|_| Uuid::new_v4()).collect();
        for id in &shared {
            queue.schedule(*id, Some(at(10)));
        }
        let later = Uuid::new_v4();
        queue.schedule(later, Some(at(20)));
        assert!(queue.take_due(at(9)).is_empty());
        let mut due = queue.take_due(at(10));
        due.sort();
        let mut expected = shared.clone();
        expected.sort();
        assert_eq!(due, expected);
        assert_eq!(queue.next_at(), Some(at(20)));
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn rescheduling_moves_a_row_and_none_removes_it() {
        let mut queue = DueQueue::default();
        let id = Uuid::new_v4();
        assert!(queue.schedule(id, Some(at(30))), "first row sets the earliest");
        assert!(queue.schedule(id, Some(at(5))), "moving earlier wakes the timer");
        assert!(!queue.schedule(id, Some(at(40))), "moving later does not");
        assert_eq!(queue.next_at(), Some(at(40)));
        assert_eq!(queue.len(), 1);
        assert!(!queue.schedule(id, None));
        assert!(queue.is_empty());
        assert_eq!(queue.next_at(), None);
    }
}
