//! Which Rewards an Event change wakes, without scanning every Reward:
//! the Rewards by the Event they refer to, kept from the Reward watch, and
//! which Event changes matter to them (issue 15: at 10,000 Events and
//! 30,000 Rewards, a scan of the Reward store per Event watch event is
//! 300 million comparisons at start-up alone).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use kube::{ResourceExt, runtime::reflector::ObjectRef};
use liveops_domain::crd::{Event, Reward};

/// What of an Event its Rewards react to: a new incarnation or spec, the
/// Event's first status (its row exists from then on), deletion.
type EventMark = (Option<String>, Option<i64>, Option<i64>, bool);

#[derive(Default)]
struct Index {
    /// Reward names by (namespace, event name).
    rewards: HashMap<(String, String), BTreeSet<String>>,
    /// The last mark of each Event seen.
    marks: HashMap<(String, String), EventMark>,
}

/// Shared index; clones share it.
#[derive(Clone, Default)]
pub struct RewardIndex(Arc<Mutex<Index>>);

impl RewardIndex {
    fn lock(&self) -> MutexGuard<'_, Index> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a Reward seen by the watch. A reward's `eventRef` is fixed,
    /// and a deleted Reward left here is only woken for nothing: the
    /// controller skips objects its store no longer holds.
    pub fn note_reward(&self, reward: &Reward) {
        let key = (
            reward.namespace().unwrap_or_default(),
            reward.spec.event_ref.name.clone(),
        );
        self.lock()
            .rewards
            .entry(key)
            .or_default()
            .insert(reward.name_any());
    }

    /// The Rewards referring to `event` when this change of it matters to
    /// them; none for the Event's status-only updates after the first.
    pub fn rewards_to_wake(&self, event: &Event) -> Vec<ObjectRef<Reward>> {
        let namespace = event.namespace().unwrap_or_default();
        let key = (namespace.clone(), event.name_any());
        let mark = (
            event.metadata.uid.clone(),
            event.metadata.generation,
            event
                .status
                .as_ref()
                .and_then(|status| status.observed_generation),
            event.metadata.deletion_timestamp.is_some(),
        );
        let mut index = self.lock();
        if index.marks.get(&key) == Some(&mark) {
            return Vec::new();
        }
        index.marks.insert(key.clone(), mark);
        index
            .rewards
            .get(&key)
            .into_iter()
            .flatten()
            .map(|name| ObjectRef::new(name).within(&namespace))
            .collect()
    }
}
