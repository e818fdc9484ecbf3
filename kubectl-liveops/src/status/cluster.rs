//! `status` from the cluster: Event and Reward objects' spec and the status
//! the operator writes, through a kube client built from the kubeconfig.

use kube::{Api, Client, api::ListParams};
use liveops_domain::crd::{Event, Reward};

use super::{EventStatusLine, RewardStock, Scope, remaining};
use crate::{Error, Result};

/// A client from the kubeconfig (or the in-cluster service account), as kubectl uses.
pub async fn client() -> Result<Client> {
    Client::try_default()
        .await
        .map_err(|error| Error::Kubeconfig(error.to_string()))
}

/// The events of `scope` with their rewards, by namespace, start and name.
pub async fn read(client: &Client, scope: &Scope) -> Result<Vec<EventStatusLine>> {
    let (events, rewards): (Api<Event>, Api<Reward>) = match scope {
        Scope::Namespace(Some(namespace)) => (
            Api::namespaced(client.clone(), namespace),
            Api::namespaced(client.clone(), namespace),
        ),
        Scope::Namespace(None) => (
            Api::default_namespaced(client.clone()),
            Api::default_namespaced(client.clone()),
        ),
        Scope::All => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let events = events.list(&ListParams::default()).await?.items;
    let rewards = rewards.list(&ListParams::default()).await?.items;
    let mut lines: Vec<EventStatusLine> = events
        .iter()
        .map(|event| {
            let namespace = event.metadata.namespace.clone().unwrap_or_default();
            let name = event.metadata.name.clone().unwrap_or_default();
            let phase = event.status.as_ref().and_then(|status| status.phase);
            EventStatusLine {
                rewards: rewards
                    .iter()
                    .filter(|reward| {
                        reward.spec.event_ref.name == name
                            && reward.metadata.namespace.as_deref() == Some(namespace.as_str())
                    })
                    .map(stock_of)
                    .collect(),
                phase: phase.map_or_else(|| "-".to_owned(), |phase| phase.to_string()),
                starts_at: event.spec.starts_at,
                ends_at: event.spec.ends_at,
                namespace,
                name,
            }
        })
        .collect();
    lines.sort_by(|a, b| (&a.namespace, a.starts_at, &a.name).cmp(&(&b.namespace, b.starts_at, &b.name)));
    Ok(lines)
}

/// Claimed as the operator last counted it; remaining from its status, or
/// from the spec's quantity before the first count.
fn stock_of(reward: &Reward) -> RewardStock {
    let status = reward.status.as_ref();
    let claimed = status.and_then(|status| status.claimed).unwrap_or(0);
    let quantity = reward.spec.quantity.map(i64::from);
    RewardStock {
        name: reward.metadata.name.clone().unwrap_or_default(),
        claimed,
        quantity,
        remaining: status
            .and_then(|status| status.remaining)
            .filter(|_| quantity.is_some())
            .or_else(|| remaining(quantity, claimed)),
    }
}
