//! The Counter and IngestClient controllers: each woken by its own watch and
//! by its signal activity (`activity`); Counters also by their Event, so
//! one whose `eventRef` dangled is projected as soon as the Event appears.
//! Counters are few (a handful per event), so the Event mapper scans the
//! Counter store rather than keeping an index as Rewards do.

use std::{future::Future, sync::Arc};

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
    Controller::for_stream(trimmed_watch(counters, writer), store)
        .with_config(controller_config())
        .watches(events, watcher::Config::default(), move |event: Event| {
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
