//! The Counter and IngestClient controllers: each woken by its own watch and
//! by its signal activity (`activity`); Counters also by their Event, so
//! one whose `eventRef` dangled is projected as soon as the Event appears.
//! Counters are few (a handful per event), so the Event mapper scans the
//! Counter store rather than keeping an index as Rewards do; like the
//! Reward index it ignores the Event's status-only updates after the first
//! (claims rewrite `claimsTotal` every few seconds).

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use futures::StreamExt;
use kube::{
    Api, ResourceExt,
    runtime::{Controller, reflector, reflector::ObjectRef, watcher},
};
use liveops_domain::crd::{Counter, Event, IngestClient};

use super::{activity, controller_config, scoped, watch::trimmed_watch};
use crate::{
    controller::{Context, error_policy, reconcile},
    shutdown::Shutdown,
};

/// The Counter controller.
pub async fn counter_controller(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: Shutdown,
) -> impl Future<Output = ()> {
    let counters: Api<Counter> = scoped(&ctx.client, namespace.as_deref());
    let events: Api<Event> = scoped(&ctx.client, namespace.as_deref());
    let (store, writer) = reflector::store();
    let referrers = store.clone();
    let marks = EventMarks::default();
    Controller::for_stream(trimmed_watch(counters, writer), store)
        .with_config(controller_config())
        .watches(events, watcher::Config::default(), move |event: Event| {
            if marks.unchanged(&event) {
                return Vec::new();
            }
            counters_of(&referrers, &event)
        })
        .reconcile_on(activity::counter_changes(ctx.db.clone(), namespace).await)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "counter controller");
            }
        })
}

/// The IngestClient controller.
pub async fn ingest_client_controller(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: Shutdown,
) -> impl Future<Output = ()> {
    let clients: Api<IngestClient> = scoped(&ctx.client, namespace.as_deref());
    let (store, writer) = reflector::store();
    Controller::for_stream(trimmed_watch(clients, writer), store)
        .with_config(controller_config())
        .reconcile_on(activity::ingest_client_changes(ctx.db.clone(), namespace).await)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "ingest client controller");
            }
        })
}

/// What of an Event its Counters react to: a new incarnation or spec, the
/// Event's first status (its row exists from then on), deletion.
type EventMark = (Option<String>, Option<i64>, Option<i64>, bool);

/// The last mark seen per Event `(namespace, name)`.
#[derive(Default)]
struct EventMarks(Mutex<HashMap<(String, String), EventMark>>);

impl EventMarks {
    /// Records `event`'s mark; true when it is the one already recorded.
    fn unchanged(&self, event: &Event) -> bool {
        let key = (event.namespace().unwrap_or_default(), event.name_any());
        let mark = (
            event.metadata.uid.clone(),
            event.metadata.generation,
            event
                .status
                .as_ref()
                .and_then(|status| status.observed_generation),
            event.metadata.deletion_timestamp.is_some(),
        );
        let mut marks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        marks.insert(key, mark.clone()) == Some(mark)
    }
}

/// The Counters whose `eventRef` names `event` (same namespace).
fn counters_of(counters: &reflector::Store<Counter>, event: &Event) -> Vec<ObjectRef<Counter>> {
    let namespace = event.namespace();
    counters
        .state()
        .iter()
        .filter(|counter| counter.namespace() == namespace && counter.spec.event_ref.name == event.name_any())
        .map(|counter| ObjectRef::from_obj(counter.as_ref()))
        .collect()
}
