//! The in-cluster source: watches Events and Rewards through the Kubernetes API.
//!
//! Two controllers share one [`Context`]. The Reward controller also
//! watches Events, so a Reward whose `eventRef` dangled is reconciled as
//! soon as its Event appears. Both also wake on claims (see [`claims`]), so
//! `claimed`, `remaining` and `claimsTotal` follow within seconds.

use std::sync::Arc;

use futures::StreamExt;
use kube::{
    Api, Client, ResourceExt,
    api::ListParams,
    runtime::{Controller, reflector::ObjectRef, watcher},
};
use liveops_domain::crd::{Event, Reward};
use sqlx::PgPool;

use crate::{
    controller::{Context, error_policy, reconcile_event, reconcile_reward},
    error::{Error, Result},
    health::Started,
    leader::{self, Election},
    metrics::Metrics,
    shutdown::Shutdown,
};

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

/// Both controllers, until the shutdown signal stops them gracefully.
pub async fn run_controllers(ctx: Arc<Context>, namespace: Option<String>, shutdown: Shutdown) {
    let events: Api<Event> = scoped(&ctx.client, namespace.as_deref());
    let rewards: Api<Reward> = scoped(&ctx.client, namespace.as_deref());
    tracing::info!(
        namespace = namespace.as_deref().unwrap_or("<all>"),
        "starting controllers"
    );

    let event_controller = Controller::new(events.clone(), watcher::Config::default())
        .reconcile_on(claims::claimed_changes(ctx.db.clone(), namespace.clone(), claims::event_ref).await)
        .graceful_shutdown_on(shutdown.clone().wait())
        .run(reconcile_event, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "event controller");
            }
        });

    let reward_controller = Controller::new(rewards, watcher::Config::default());
    let rewards_store = reward_controller.store();
    let reward_controller = reward_controller
        .watches(events, watcher::Config::default(), move |event: Event| {
            rewards_of(&event, rewards_store.state())
        })
        .reconcile_on(claims::claimed_changes(ctx.db.clone(), namespace.clone(), claims::reward_ref).await)
        .graceful_shutdown_on(shutdown.clone().wait())
        .run(reconcile_reward, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "reward controller");
            }
        });

    futures::join!(event_controller, reward_controller);
    tracing::info!("controllers stopped");
}

/// Every Reward in `rewards` that refers to `event`, dangling until now or not.
fn rewards_of(event: &Event, rewards: Vec<Arc<Reward>>) -> Vec<ObjectRef<Reward>> {
    let namespace = event.namespace();
    let name = event.name_any();
    rewards
        .into_iter()
        .filter(|reward| reward.namespace() == namespace && reward.spec.event_ref.name == name)
        .map(|reward| ObjectRef::from_obj(reward.as_ref()))
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

mod claims;
#[cfg(test)]
mod controllers_tests;
#[cfg(test)]
mod recreate_tests;
#[cfg(test)]
mod tests;
