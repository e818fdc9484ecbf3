//! Wakes Counters and IngestClients whose activity moved: `POST /signals`
//! writes `counter_signals`, Rewards gain or lose `requires` on a counter,
//! and the statuses (`lastSignalAt`, `signalsPerMinute`, `rewards`) must
//! follow within seconds. One query per kind every [`ACTIVITY_POLL`]
//! compares every live row's activity with the previous poll, as
//! `webhook_health` does for delivery health.

use std::{collections::HashMap, future::Future, time::Duration};

use futures::{Stream, StreamExt, stream};
use kube::{Resource, runtime::reflector::ObjectRef};
use liveops_domain::crd::{Counter, IngestClient};
use sqlx::PgPool;

use crate::{error::Result, projection};

/// How often the activity is compared (the status-poll cadence of the
/// claims and health polls).
pub const ACTIVITY_POLL: Duration = Duration::from_secs(2);

type Seen<V> = HashMap<(String, String), V>;

/// Counters whose activity changed since the previous poll.
pub async fn counter_changes(
    db: PgPool,
    namespace: Option<String>,
) -> impl Stream<Item = ObjectRef<Counter>> + Send {
    changes(db, namespace, |db, namespace| async move {
        projection::counter_activity(&db, namespace.as_deref(), None).await
    })
    .await
}

/// IngestClients whose activity changed since the previous poll.
pub async fn ingest_client_changes(
    db: PgPool,
    namespace: Option<String>,
) -> impl Stream<Item = ObjectRef<IngestClient>> + Send {
    changes(db, namespace, |db, namespace| async move {
        projection::ingest_client_activity(&db, namespace.as_deref(), None).await
    })
    .await
}

/// Objects whose value read by `read` changed since the previous poll, or
/// whose row is new since then. Read once before the stream is returned
/// (every object is reconciled at start-up anyway); a failed poll is
/// logged and retried at the next tick.
async fn changes<K, V, R, F>(
    db: PgPool,
    namespace: Option<String>,
    read: R,
) -> impl Stream<Item = ObjectRef<K>> + Send
where
    K: Resource<DynamicType = ()> + 'static,
    V: PartialEq + Send + 'static,
    R: Fn(PgPool, Option<String>) -> F + Send + 'static,
    F: Future<Output = Result<Seen<V>>> + Send,
{
    let seen = match read(db.clone(), namespace.clone()).await {
        Ok(seen) => seen,
        Err(error) => {
            tracing::warn!(kind = K::kind(&()).as_ref(), error = %error, "reading signal activity failed");
            Seen::new()
        }
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + ACTIVITY_POLL, ACTIVITY_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    stream::unfold((seen, ticker, read), move |(mut seen, mut ticker, read)| {
        let db = db.clone();
        let namespace = namespace.clone();
        async move {
            ticker.tick().await;
            let changed = match read(db, namespace).await {
                Ok(now) => {
                    let changed: Vec<_> = now
                        .iter()
                        .filter(|(key, value)| seen.get(*key) != Some(*value))
                        .map(|((namespace, name), _)| ObjectRef::new(name).within(namespace))
                        .collect();
                    seen = now;
                    changed
                }
                Err(error) => {
                    tracing::warn!(kind = K::kind(&()).as_ref(), error = %error, "polling signal activity failed");
                    Vec::new()
                }
            };
            Some((stream::iter(changed), (seen, ticker, read)))
        }
    })
    .flatten()
}
