//! Wakes Rewards (and their Events) whose counters moved because of claims.
//!
//! The claim transaction writes `rewards.claimed` and `events.claims_total`
//! in PostgreSQL; the statuses (`claimed`, `remaining`, `claimsTotal`) must
//! follow within seconds. One query every [`CLAIMS_POLL`] compares the
//! counters with the previous poll and yields the objects to reconcile.
//! Polling was chosen over LISTEN/NOTIFY so that the claim hot path pays
//! nothing (a NOTIFY serialises committing transactions on a global lock).

use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
    time::Duration,
};

use futures::{Stream, StreamExt, stream};
use kube::{Resource, runtime::reflector::ObjectRef};
use sqlx::PgPool;

use crate::error::Result;

/// How often the counters are compared.
pub const CLAIMS_POLL: Duration = Duration::from_secs(2);

/// A live Reward and the Event it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RewardKey {
    pub namespace: String,
    pub reward: String,
    pub event: String,
}

/// `claimed` per live Reward.
type ClaimedCounts = HashMap<RewardKey, i32>;

/// Objects (picked by `to_ref` from each changed Reward) whose counters
/// changed since the previous poll, each at most once per poll.
///
/// The counters are read once before the stream is returned, so only
/// changes after this call are reported: every object is reconciled at
/// start-up anyway. A failed poll is logged and retried at the next tick.
pub async fn claimed_changes<K>(
    db: PgPool,
    namespace: Option<String>,
    to_ref: fn(&RewardKey) -> ObjectRef<K>,
) -> impl Stream<Item = ObjectRef<K>> + Send
where
    K: Resource<DynamicType = ()> + 'static,
{
    let seen = match claimed_counts(&db, namespace.as_deref()).await {
        Ok(counts) => counts,
        Err(error) => {
            tracing::warn!(error = %error, "reading claimed counts failed");
            ClaimedCounts::new()
        }
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + CLAIMS_POLL, CLAIMS_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    stream::unfold((seen, ticker), move |(mut seen, mut ticker)| {
        let db = db.clone();
        let namespace = namespace.clone();
        async move {
            ticker.tick().await;
            let changed = match claimed_counts(&db, namespace.as_deref()).await {
                Ok(counts) => {
                    let mut woken = HashSet::new();
                    let changed: Vec<ObjectRef<K>> = counts
                        .iter()
                        // A Reward new since the last poll was just reconciled
                        // by its own watch; only claims since then matter.
                        .filter(|(key, claimed)| seen.get(*key).copied().unwrap_or(0) != **claimed)
                        .map(|(key, _)| to_ref(key))
                        .filter(|object| woken.insert(object.clone()))
                        .collect();
                    seen = counts;
                    changed
                }
                Err(error) => {
                    tracing::warn!(error = %error, "polling claimed counts failed");
                    Vec::new()
                }
            };
            Some((stream::iter(changed), (seen, ticker)))
        }
    })
    .flatten()
}

/// The Reward itself.
pub fn reward_ref<K: Resource<DynamicType = ()>>(key: &RewardKey) -> ObjectRef<K> {
    ObjectRef::new(&key.reward).within(&key.namespace)
}

/// The Event the Reward belongs to (its `claimsTotal` moved too).
pub fn event_ref<K: Resource<DynamicType = ()>>(key: &RewardKey) -> ObjectRef<K> {
    ObjectRef::new(&key.event).within(&key.namespace)
}

async fn claimed_counts(db: &PgPool, namespace: Option<&str>) -> Result<ClaimedCounts> {
    let rows = sqlx::query!(
        "select r.namespace, r.name, e.name as event_name, r.claimed
         from rewards r join events e on e.id = r.event_id
         where r.deleted_at is null and ($1::text is null or r.namespace = $1)",
        namespace
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let key = RewardKey {
                namespace: row.namespace,
                reward: row.name,
                event: row.event_name,
            };
            (key, row.claimed)
        })
        .collect())
}
