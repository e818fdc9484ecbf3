//! The in-cluster source: watches Events and Rewards through the Kubernetes API.
//!
//! Two controllers share one [`Context`], and the phase timer
//! (`crate::phase_timer`) flips Event rows at their boundaries on a path of
//! its own; the Events it flipped are reconciled next ([`flips`]), which
//! writes their statuses. The Reward controller also watches Events, so a Reward whose
//! `eventRef` dangled is reconciled as soon as its Event appears (found
//! through [`reward_index`], not by scanning every Reward). Both also wake
//! on claims (see [`claims`]), so `claimed`, `remaining` and `claimsTotal`
//! follow within seconds; a slow safety net ([`resync`]) wakes every
//! Reward once per ten minutes. What the controllers store and what
//! triggers them is trimmed for size in [`watch`].
//!
//! A third controller projects WebhookEndpoints. It watches Secrets by
//! metadata only (their data is read with one GET when an endpoint that
//! names them is reconciled, never cached), so a rotated secret is
//! re-projected at once, and wakes on the relay's delivery health (see
//! [`webhook_health`]).
//!
//! Counters and IngestClients have a controller each ([`challenges`]),
//! woken by their signal activity ([`activity`]).

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, ResourceExt,
    api::ListParams,
    core::PartialObjectMeta,
    runtime::{Controller, WatchStreamExt, controller, reflector, reflector::ObjectRef, watcher},
};
use liveops_domain::crd::{Counter, Event, IngestClient, Reward, WebhookEndpoint};
use sqlx::PgPool;

use crate::{
    controller::{Context, error_policy, reconcile},
    error::{Error, Result},
    health::Started,
    leader::{self, Election},
    metrics::Metrics,
    shutdown::Shutdown,
};

use self::{reward_index::RewardIndex, watch::trimmed_watch};

/// Where and as whom the cluster source runs.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// Watch one namespace only; all when `None`.
    pub watch_namespace: Option<String>,
    /// This replica's name in Kubernetes Events.
    pub identity: String,
    /// Run the controllers only while holding this Lease.
    pub election: Option<Election>,
}

/// Runs the controllers until `shutdown` (with leader election when set).
pub async fn run(
    client: Client,
    db: PgPool,
    metrics: Metrics,
    settings: ClusterSettings,
    started: Started,
    shutdown: Shutdown,
) -> Result<()> {
    let events: Api<Event> = scoped(&client, settings.watch_namespace.as_deref());
    let rewards: Api<Reward> = scoped(&client, settings.watch_namespace.as_deref());
    // Fail fast, with a hint, when the CRDs are missing or RBAC forbids listing.
    if let Err(error) = events.list(&ListParams::default().limit(1)).await {
        tracing::error!(error = %error, "cannot list Events: are the CRDs installed (`operator crd | kubectl apply -f -`) and RBAC granted?");
        return Err(Error::Kube(error));
    }
    rewards.list(&ListParams::default().limit(1)).await?;
    let webhooks: Api<WebhookEndpoint> = scoped(&client, settings.watch_namespace.as_deref());
    webhooks.list(&ListParams::default().limit(1)).await?;
    let counters: Api<Counter> = scoped(&client, settings.watch_namespace.as_deref());
    counters.list(&ListParams::default().limit(1)).await?;
    let ingest_clients: Api<IngestClient> = scoped(&client, settings.watch_namespace.as_deref());
    ingest_clients.list(&ListParams::default().limit(1)).await?;

    let ctx = Arc::new(Context::new(
        client.clone(),
        db,
        metrics,
        settings.identity.clone(),
    ));
    started.set();
    let namespace = settings.watch_namespace.clone();
    let controllers = || run_controllers(ctx.clone(), namespace.clone(), shutdown.clone());
    match settings.election {
        Some(election) => {
            leader::run_while_leader(client, election, shutdown.clone().wait(), controllers).await
        }
        None => {
            controllers().await;
            Ok(())
        }
    }
}

/// Reconciles in flight per controller: enough to keep the database and
/// the API server busy at 40,000 objects, few enough to leave pool
/// connections to spare.
pub const CONCURRENCY: u16 = 16;
/// Triggers for one object within this window are merged into one
/// reconcile, so a burst of claims yields one status patch, not one each.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

fn controller_config() -> controller::Config {
    controller::Config::default()
        .concurrency(CONCURRENCY)
        .debounce(DEBOUNCE)
}

/// Every controller and the phase timer, until the shutdown signal stops
/// them gracefully.
pub async fn run_controllers(ctx: Arc<Context>, namespace: Option<String>, shutdown: Shutdown) {
    let events: Api<Event> = scoped(&ctx.client, namespace.as_deref());
    let rewards: Api<Reward> = scoped(&ctx.client, namespace.as_deref());
    tracing::info!(
        namespace = namespace.as_deref().unwrap_or("<all>"),
        "starting controllers"
    );
    let (flips, flipped) = tokio::sync::mpsc::unbounded_channel();
    let timer = ctx
        .phase_timer
        .clone()
        .run(ctx.db.clone(), Some(flips), shutdown.clone().wait());

    let (event_store, event_writer) = reflector::store();
    let event_controller = Controller::for_stream(trimmed_watch(events.clone(), event_writer), event_store)
        .with_config(controller_config())
        .reconcile_on(claims::claimed_changes(ctx.db.clone(), namespace.clone(), claims::event_ref).await)
        .reconcile_on(flips::flipped_events(flipped))
        .graceful_shutdown_on(shutdown.clone().wait())
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "event controller");
            }
        });

    let index = RewardIndex::default();
    let noted = index.clone();
    let (reward_store, reward_writer) = reflector::store();
    let reward_watch = trimmed_watch(rewards, reward_writer).inspect(move |reward| {
        if let Ok(reward) = reward {
            noted.note_reward(reward);
        }
    });
    let safety_net = resync::safety_resync(reward_store.clone());
    let reward_controller = Controller::for_stream(reward_watch, reward_store)
        .with_config(controller_config())
        .reconcile_on(safety_net)
        .watches(events, watcher::Config::default(), move |event: Event| {
            index.rewards_to_wake(&event)
        })
        .reconcile_on(claims::claimed_changes(ctx.db.clone(), namespace.clone(), claims::reward_ref).await)
        .graceful_shutdown_on(shutdown.clone().wait())
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "reward controller");
            }
        });

    let webhook_controller = webhook_controller(ctx.clone(), namespace.clone(), shutdown.clone()).await;
    let counter_controller =
        challenges::counter_controller(ctx.clone(), namespace.clone(), shutdown.clone()).await;
    let ingest_client_controller =
        challenges::ingest_client_controller(ctx.clone(), namespace.clone(), shutdown.clone()).await;
    futures::join!(
        timer,
        event_controller,
        reward_controller,
        webhook_controller,
        counter_controller,
        ingest_client_controller
    );
    tracing::info!("controllers stopped");
}

/// The WebhookEndpoint controller: woken by its own watch, by changes of
/// the Secrets endpoints name, and by the relay's health writes.
async fn webhook_controller(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: Shutdown,
) -> impl std::future::Future<Output = ()> {
    let webhooks: Api<WebhookEndpoint> = scoped(&ctx.client, namespace.as_deref());
    // Metadata-only requests: Secret data never enters this process's cache.
    let secrets: Api<PartialObjectMeta<Secret>> = scoped(&ctx.client, namespace.as_deref());
    let (store, writer) = reflector::store();
    let referrers = store.clone();
    let secret_changes = watcher(secrets, watcher::Config::default())
        .default_backoff()
        .touched_objects();
    Controller::for_stream(trimmed_watch(webhooks, writer), store)
        .with_config(controller_config())
        .watches_stream(secret_changes, move |secret: PartialObjectMeta<Secret>| {
            endpoints_naming(&referrers, &secret)
        })
        .reconcile_on(webhook_health::health_changes(ctx.db.clone(), namespace).await)
        .graceful_shutdown_on(shutdown.wait())
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "webhook endpoint controller");
            }
        })
}

/// The endpoints whose `secretRef` names `secret` (same namespace).
fn endpoints_naming(
    endpoints: &reflector::Store<WebhookEndpoint>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<WebhookEndpoint>> {
    let namespace = secret.namespace();
    endpoints
        .state()
        .iter()
        .filter(|endpoint| {
            endpoint.namespace() == namespace && endpoint.spec.secret_ref.name == secret.name_any()
        })
        .map(|endpoint| ObjectRef::from_obj(endpoint.as_ref()))
        .collect()
}

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

mod activity;
mod challenges;
#[cfg(test)]
mod challenges_tests;
mod claims;
#[cfg(test)]
mod controllers_tests;
mod flips;
#[cfg(test)]
mod recreate_tests;
mod resync;
mod reward_index;
#[cfg(test)]
mod scale_tests;
#[cfg(test)]
mod tests;
mod watch;
mod webhook_health;
#[cfg(test)]
mod webhook_tests;
