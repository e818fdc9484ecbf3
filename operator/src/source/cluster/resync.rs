//! The Reward controller's slow safety net: every [`RESYNC_TICK`] it wakes
//! the stored Rewards of one slice out of [`RESYNC_SLICES`] (by a hash of
//! the name), so each is reconciled once per [`SAFETY_RESYNC`] and the
//! work is spread evenly over it. Claims normally reach the statuses within
//! seconds (`claims`); this only covers a missed change.
//!
//! A stream rather than a requeue per Reward: 30,000 requeues sit in the
//! controller's scheduler (a delay-queue entry and a hash-map entry each,
//! with the object's reference) for as long as the operator runs, about
//! 20 MB at catalogue scale.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use futures::{Stream, StreamExt, stream};
use kube::{
    Resource, ResourceExt,
    runtime::reflector::{ObjectRef, Store},
};

use crate::reconcile::SAFETY_RESYNC;

/// How often a slice is woken.
pub const RESYNC_TICK: Duration = Duration::from_secs(2);
/// Slices the store is cut into: one per tick of the period.
const RESYNC_SLICES: u64 = SAFETY_RESYNC.as_secs() / RESYNC_TICK.as_secs();

/// The slice `name` falls in.
fn slice_of(namespace: &str, name: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (namespace, name).hash(&mut hasher);
    hasher.finish() % RESYNC_SLICES
}

/// References to every object of `store`, one slice per tick, forever.
pub fn safety_resync<K>(store: Store<K>) -> impl Stream<Item = ObjectRef<K>> + Send
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + RESYNC_TICK, RESYNC_TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    stream::unfold((store, ticker, 0u64), |(store, mut ticker, slice)| async move {
        ticker.tick().await;
        let due: Vec<ObjectRef<K>> = store
            .state()
            .iter()
            .filter(|object| slice_of(&object.namespace().unwrap_or_default(), &object.name_any()) == slice)
            .map(|object| ObjectRef::new(&object.name_any()).within(&object.namespace().unwrap_or_default()))
            .collect();
        Some((stream::iter(due), (store, ticker, (slice + 1) % RESYNC_SLICES)))
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{RESYNC_SLICES, slice_of};

    #[test]
    fn every_object_falls_in_one_slice_and_the_slices_are_spread() {
        let slices: Vec<u64> = (0..30_000)
            .map(|i| slice_of("bench", &format!("reward-{i:05}")))
            .collect();
        assert!(slices.iter().all(|slice| *slice < RESYNC_SLICES));
        let used: HashSet<u64> = slices.iter().copied().collect();
        assert_eq!(used.len() as u64, RESYNC_SLICES, "30,000 names cover every slice");
        let largest = (0..RESYNC_SLICES)
            .map(|slice| slices.iter().filter(|s| **s == slice).count())
            .max()
            .unwrap_or(0);
        // 100 per slice on average; no slice holds a burst.
        assert!(largest < 200, "largest slice {largest}");
    }
}
