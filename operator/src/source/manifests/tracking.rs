//! Recording a loaded object the way an API server would: a new spec bumps
//! `metadata.generation`, an unchanged one keeps everything, and an edit
//! that breaks a transition rule (the CRD's CEL rules on `oldSelf`, e.g.
//! the immutable `eventRef`) is refused while the last accepted spec stays
//! in force. Only a spec that took effect is held against edits (see
//! `Tracked::in_force`).

use std::collections::BTreeMap;

use kube::{
    Resource,
    core::object::{HasSpec, HasStatus},
};
use liveops_domain::crd::{
    Counter, CounterSpec, Event, EventSpec, IngestClient, IngestClientSpec, Reward, RewardSpec, SpecProblem,
    WebhookEndpoint, WebhookEndpointSpec,
    challenge_validation::counter_transition_problems,
    transition::{event_transition_problems, reward_transition_problems},
};
use serde::de::DeserializeOwned;

use super::{documents::Origin, object_key::ObjectKey};

/// One loaded object and what its last reconcile decided.
pub struct Tracked<T> {
    /// The object as loaded, with the operator's generation and status:
    /// the very allocation the parser made, moved in, not copied (a copy
    /// per object left 40,000 freed blocks of the wrong size behind at load).
    pub object: Box<T>,
    /// Where it was loaded from, for reports.
    pub origin: Origin,
    /// The last reconcile failed (e.g. database down): retried on the next
    /// counters pass.
    pub failed: bool,
    /// Why the latest loaded version was refused (it breaks a transition
    /// rule, see [`track`]): `object` is still the last accepted version.
    /// Empty when the loaded version is in force.
    pub refused: Vec<SpecProblem>,
    /// `object`'s spec took effect at its last reconcile. Only such a spec
    /// is held against edits: one that never did (its Event is missing, its
    /// reward's ledger belongs to another Event) leaves nothing to protect,
    /// so its file may simply be corrected.
    pub in_force: bool,
    /// Events: the `claims_total` up to which the counters pass mirrored
    /// this event's Rewards. Kept apart from the status, which any
    /// reconcile of the Event refreshes without looking at its Rewards.
    pub mirrored_total: Option<i64>,
}

/// Tracked objects by key (the objects themselves are boxed, so a B-tree
/// node of eleven entries stays small).
pub type TrackedMap<T> = BTreeMap<ObjectKey, Tracked<T>>;

/// A kind's transition rules, mirrored from its CRD
/// (`liveops_domain::crd::transition`): a cluster's API server enforces
/// them on update; in manifests mode [`track`] does.
pub trait Transitions: HasSpec {
    /// The rules that moving from `old` to `new` breaks; empty when allowed.
    fn transition_problems(old: &Self::Spec, new: &Self::Spec) -> Vec<SpecProblem>;
}

impl Transitions for Event {
    fn transition_problems(old: &EventSpec, new: &EventSpec) -> Vec<SpecProblem> {
        event_transition_problems(old, new)
    }
}

impl Transitions for Reward {
    fn transition_problems(old: &RewardSpec, new: &RewardSpec) -> Vec<SpecProblem> {
        reward_transition_problems(old, new)
    }
}

impl Transitions for WebhookEndpoint {
    /// Every field may change: an edit is a new generation, nothing more.
    fn transition_problems(_: &WebhookEndpointSpec, _: &WebhookEndpointSpec) -> Vec<SpecProblem> {
        Vec::new()
    }
}

impl Transitions for Counter {
    fn transition_problems(old: &CounterSpec, new: &CounterSpec) -> Vec<SpecProblem> {
        counter_transition_problems(old, new)
    }
}

impl Transitions for IngestClient {
    /// Every field may change: an edit is a new generation, nothing more.
    fn transition_problems(_: &IngestClientSpec, _: &IngestClientSpec) -> Vec<SpecProblem> {
        Vec::new()
    }
}

/// Records a loaded object; true when it needs a reconcile: it is new, its
/// spec changed (then its generation goes up, as an API server's would, and
/// the status stays), or a refusal of an edit appeared, changed or cleared.
pub fn track<T>(
    tracked: &mut TrackedMap<T>,
    key: &ObjectKey,
    origin: Origin,
    loaded: Box<T>,
    stored_status: Option<serde_json::Value>,
) -> bool
where
    T: Clone + Resource + HasSpec + HasStatus + Transitions,
    T::Spec: PartialEq,
    T::Status: DeserializeOwned,
{
    if let Some(existing) = tracked.get_mut(key) {
        existing.origin = origin;
        let unchanged = existing.object.spec() == loaded.spec();
        let refused = if unchanged || !existing.in_force {
            Vec::new()
        } else {
            T::transition_problems(existing.object.spec(), loaded.spec())
        };
        if unchanged || !refused.is_empty() {
            // Back to the spec in force, or an edit refused: the object
            // stays as it was; only the refusal shown in its status moves.
            let changed = existing.refused != refused;
            existing.refused = refused;
            return changed;
        }
        let generation = existing.object.meta().generation.unwrap_or(1) + 1;
        let status = existing.object.status_mut().take();
        existing.object = loaded;
        existing.object.meta_mut().generation = Some(generation);
        *existing.object.status_mut() = status;
        existing.refused = Vec::new();
        return true;
    }
    let mut object = loaded;
    let generation = stored_status
        .as_ref()
        .and_then(|status| status.get("observedGeneration"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(1);
    object.meta_mut().generation = Some(generation);
    *object.status_mut() = stored_status.and_then(|status| serde_json::from_value(status).ok());
    tracked.insert(
        key.clone(),
        Tracked {
            object,
            origin,
            failed: false,
            refused: Vec::new(),
            in_force: false,
            mirrored_total: None,
        },
    );
    true
}
