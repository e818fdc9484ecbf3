//! Wakes WebhookEndpoints whose delivery health moved: the relay writes
//! `last_success_at`, `consecutive_failures`, `disabled_reason`, ... into
//! `webhook_endpoints`, and the statuses must follow within seconds. One
//! query every [`HEALTH_POLL`] compares every live row's health with the
//! previous poll, as `claims` does for counters.

use std::{collections::HashMap, time::Duration};

use futures::{Stream, StreamExt, stream};
use kube::runtime::reflector::ObjectRef;
use liveops_domain::crd::WebhookEndpoint;
use sqlx::PgPool;

use crate::projection::{WebhookHealth, all_webhook_health};

/// How often the health columns are compared.
pub const HEALTH_POLL: Duration = Duration::from_secs(2);

type Seen = HashMap<(String, String), WebhookHealth>;

/// Endpoints whose health changed since the previous poll, or whose row is
/// new since then. Read once before the stream is returned, so rows as they
/// stand at start-up are not reported (every endpoint is reconciled then
/// anyway); a failed poll is logged and retried at the next tick.
pub async fn health_changes(
    db: PgPool,
    namespace: Option<String>,
) -> impl Stream<Item = ObjectRef<WebhookEndpoint>> + Send {
    let seen = match all_webhook_health(&db, namespace.as_deref()).await {
        Ok(seen) => seen,
        Err(error) => {
            tracing::warn!(error = %error, "reading webhook health failed");
            Seen::new()
        }
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + HEALTH_POLL, HEALTH_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    stream::unfold((seen, ticker), move |(mut seen, mut ticker)| {
        let db = db.clone();
        let namespace = namespace.clone();
        async move {
            ticker.tick().await;
            let changed = match all_webhook_health(&db, namespace.as_deref()).await {
                Ok(now) => {
                    let changed: Vec<_> = now
                        .iter()
                        // A row new since the last poll is compared with
                        // nothing: the relay may have written it already, and
                        // one extra reconcile of a few endpoints costs little.
                        .filter(|(key, health)| seen.get(*key) != Some(*health))
                        .map(|((namespace, name), _)| ObjectRef::new(name).within(namespace))
                        .collect();
                    seen = now;
                    changed
                }
                Err(error) => {
                    tracing::warn!(error = %error, "polling webhook health failed");
                    Vec::new()
                }
            };
            Some((stream::iter(changed), (seen, ticker)))
        }
    })
    .flatten()
}
