//! Recording a loaded object the way an API server would: a new spec bumps
//! `metadata.generation`, an unchanged one keeps everything.

use std::collections::BTreeMap;

use kube::{
    Resource,
    core::object::{HasSpec, HasStatus},
};
use serde::de::DeserializeOwned;

use super::{
    documents::{ObjectKey, Origin},
    state::Tracked,
};

/// Records a loaded object; true when it is new or its spec changed (then
/// its generation goes up, as an API server's would, and the status stays).
pub fn track<T>(
    tracked: &mut BTreeMap<ObjectKey, Tracked<T>>,
    key: &ObjectKey,
    origin: &Origin,
    loaded: &T,
    stored_status: Option<serde_json::Value>,
) -> bool
where
    T: Clone + Resource + HasSpec + HasStatus,
    T::Spec: PartialEq,
    T::Status: DeserializeOwned,
{
    if let Some(existing) = tracked.get_mut(key) {
        existing.origin = origin.clone();
        if existing.object.spec() == loaded.spec() {
            return false;
        }
        let generation = existing.object.meta().generation.unwrap_or(1) + 1;
        let status = existing.object.status_mut().take();
        existing.object = loaded.clone();
        existing.object.meta_mut().generation = Some(generation);
        *existing.object.status_mut() = status;
        return true;
    }
    let mut object = loaded.clone();
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
            origin: origin.clone(),
            requeue_at: None,
            failed: false,
        },
    );
    true
}
