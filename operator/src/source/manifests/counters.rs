//! Status mirroring driven by change (issue 15): each pass reads every live
//! event's `claims_total` (one narrow scan), and only under the events whose
//! total moved reads the rewards' counters; only the statuses that differ
//! are written, with one statement, at most [`STATUS_WRITES_PER_PASS`] per
//! pass (what is left over still differs at the next pass). Failed
//! reconciles are retried here, and a slice of every object goes through
//! the full reconcile so that all of them are re-checked once per
//! [`SAFETY_RESYNC`](crate::reconcile::SAFETY_RESYNC), spread out rather
//! than all at once. WebhookEndpoints' delivery health (`state::webhooks`)
//! and the signal activity of Counters and IngestClients
//! (`state::challenges`) are mirrored by the same pass.

use std::{collections::HashMap, time::Duration};

use super::{object_key::ObjectKey, state::ManifestState, store_reconcile::store_changed};
use crate::{
    error::Result,
    projection::{self, Kind, RewardCounters},
    reconcile::remaining_of,
};

/// How often counters are compared (claims show up in statuses this fast).
pub const COUNTERS_PASS: Duration = Duration::from_secs(2);
/// Upper bound on statuses written by one pass, so a burst of claims over
/// many rewards is mirrored at a bounded rate.
pub const STATUS_WRITES_PER_PASS: usize = 5_000;

impl ManifestState {
    /// One pass: retries failed reconciles, mirrors moved counters, and
    /// reconciles the next safety slice (`share` of all objects).
    pub async fn counters_pass(&mut self, share: f64) {
        self.retry_failed().await;
        self.retry_failed_webhooks().await;
        self.retry_failed_challenges().await;
        if let Err(error) = self.mirror_counters().await {
            tracing::warn!(%error, "cannot read claim counters; retrying next pass");
        }
        if let Err(error) = self.mirror_webhook_health().await {
            tracing::warn!(%error, "cannot read webhook health; retrying next pass");
        }
        if let Err(error) = self.mirror_activity().await {
            tracing::warn!(%error, "cannot read signal activity; retrying next pass");
        }
        self.safety_slice(share).await;
    }

    /// Every object through the full reconcile, at once (tests; the run
    /// loop spreads this over [`SAFETY_RESYNC`](crate::reconcile::SAFETY_RESYNC)).
    #[cfg(test)]
    pub async fn resync(&mut self) {
        let events: Vec<_> = self.events.keys().cloned().collect();
        self.reconcile_events(events).await;
        let rewards: Vec<_> = self.rewards.keys().cloned().collect();
        self.reconcile_rewards(rewards).await;
        self.resync_webhooks().await;
        self.resync_challenges().await;
    }

    async fn retry_failed(&mut self) {
        let events: Vec<_> = failed_keys(&self.events);
        self.reconcile_events(events).await;
        let rewards: Vec<_> = failed_keys(&self.rewards);
        self.reconcile_rewards(rewards).await;
    }

    async fn mirror_counters(&mut self) -> Result<()> {
        let totals = projection::live_claims_totals(self.db()).await?;
        let moved: Vec<(ObjectKey, i64)> = self
            .events
            .iter()
            .filter_map(|(key, tracked)| {
                tracked.object.status.as_ref()?;
                let live = *totals.get(&key.namespaced_name())?;
                (tracked.mirrored_total != Some(live)).then_some((key.clone(), live))
            })
            .collect();
        if moved.is_empty() {
            return Ok(());
        }
        let pairs: Vec<_> = moved.iter().map(|(key, _)| key.namespaced_name()).collect();
        let mut under = self.rewards_to_mirror(projection::reward_counters_under(self.db(), &pairs).await?);
        let mut events = Vec::new();
        let mut rewards = Vec::new();
        for (key, total) in moved {
            let mine = under.remove(&key.namespaced_name()).unwrap_or_default();
            // Whole events only, so an event's total is mirrored with its
            // rewards; the first always fits, however many rewards it has.
            if !events.is_empty() && events.len() + rewards.len() + mine.len() >= STATUS_WRITES_PER_PASS {
                break;
            }
            rewards.extend(mine);
            events.push((key, total));
        }
        self.write_counters(events, rewards).await
    }

    /// The rewards among `counters` whose shown counters differ, grouped by
    /// their event's `(namespace, name)`.
    fn rewards_to_mirror(
        &self,
        counters: Vec<((String, String, String), RewardCounters)>,
    ) -> HashMap<(String, String), Vec<(ObjectKey, RewardCounters)>> {
        let mut grouped: HashMap<(String, String), Vec<_>> = HashMap::new();
        for ((namespace, event, name), live) in counters {
            let key = ObjectKey::new(Kind::Reward, namespace, name);
            let Some(tracked) = self.rewards.get(&key) else {
                continue;
            };
            let Some(status) = tracked.object.status.as_ref().filter(|_| tracked.in_force) else {
                continue;
            };
            let wanted = (Some(live.claimed), remaining_of(live.claimed, live.quantity));
            if (status.claimed, status.remaining) != wanted {
                grouped
                    .entry((key.namespace.clone(), event))
                    .or_default()
                    .push((key, live));
            }
        }
        grouped
    }

    async fn write_counters(
        &mut self,
        events: Vec<(ObjectKey, i64)>,
        rewards: Vec<(ObjectKey, RewardCounters)>,
    ) -> Result<()> {
        let mut event_statuses = Vec::with_capacity(events.len());
        for (key, total) in &events {
            let status = self.events.get(key).and_then(|t| t.object.status.clone());
            if let Some(mut status) = status.filter(|status| status.claims_total != Some(*total)) {
                status.claims_total = Some(*total);
                event_statuses.push((key.clone(), status));
            }
        }
        let mut reward_statuses = Vec::with_capacity(rewards.len());
        for (key, live) in &rewards {
            if let Some(mut status) = self.rewards.get(key).and_then(|t| t.object.status.clone()) {
                status.claimed = Some(live.claimed);
                status.remaining = remaining_of(live.claimed, live.quantity);
                reward_statuses.push((key.clone(), status));
            }
        }
        let mut stored = Vec::with_capacity(event_statuses.len() + reward_statuses.len());
        for (key, status) in &event_statuses {
            stored.push((key.clone(), serde_json::to_string(status)?));
        }
        for (key, status) in &reward_statuses {
            stored.push((key.clone(), serde_json::to_string(status)?));
        }
        store_changed("counters", self.db(), &stored).await?;
        for (key, status) in event_statuses {
            if let Some(tracked) = self.events.get_mut(&key) {
                tracked.object.status = Some(status);
            }
        }
        for (key, total) in events {
            if let Some(tracked) = self.events.get_mut(&key) {
                tracked.mirrored_total = Some(total);
            }
        }
        for (key, status) in reward_statuses {
            if let Some(tracked) = self.rewards.get_mut(&key) {
                tracked.object.status = Some(status);
            }
        }
        Ok(())
    }

    /// The next `share` of all objects (at least one) after the cursor,
    /// Events before Rewards, wrapping around at the end.
    async fn safety_slice(&mut self, share: f64) {
        let total = self.events.len() + self.rewards.len();
        if total == 0 {
            return;
        }
        let wanted = ((total as f64) * share).ceil().max(1.0) as usize;
        let after = |key: &&ObjectKey| self.safety_cursor.as_ref().is_none_or(|cursor| *key > cursor);
        let keys: Vec<ObjectKey> = self
            .events
            .keys()
            .chain(self.rewards.keys())
            .filter(after)
            .take(wanted)
            .cloned()
            .collect();
        self.safety_cursor = if keys.len() < wanted {
            // A full round of Events and Rewards: the few endpoints,
            // counters and ingest clients too.
            self.resync_webhooks().await;
            self.resync_challenges().await;
            None
        } else {
            keys.last().cloned()
        };
        let (events, rewards): (Vec<_>, Vec<_>) = keys.into_iter().partition(|key| key.kind == Kind::Event);
        self.reconcile_events(events).await;
        self.reconcile_rewards(rewards).await;
    }
}

fn failed_keys<T>(tracked: &super::tracking::TrackedMap<T>) -> Vec<ObjectKey> {
    tracked
        .iter()
        .filter(|(_, tracked)| tracked.failed)
        .map(|(key, _)| key.clone())
        .collect()
}
