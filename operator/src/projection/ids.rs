//! Row ids of projected objects: the uid in a cluster, a UUIDv5 of
//! `namespace/name` per kind in manifests mode.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The two kinds, for ids and the resource_status table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Event,
    Reward,
}

impl Kind {
    /// The kind's name as in `kind:` and resource_status.kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "Event",
            Self::Reward => "Reward",
        }
    }
}

/// `metadata.namespace`, defaulting like kubectl does.
pub fn namespace_of(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

/// The row id of an object: its uid when it has one (cluster), otherwise a
/// UUIDv5 of `namespace/name` in a per-kind namespace (manifests mode), so a
/// manifests file keeps its row across restarts.
pub fn object_id(kind: Kind, meta: &ObjectMeta) -> Result<Uuid> {
    if let Some(uid) = meta.uid.as_deref().and_then(|uid| Uuid::parse_str(uid).ok()) {
        return Ok(uid);
    }
    let name = meta.name.as_deref().ok_or(Error::MissingMetadata("name"))?;
    Ok(manifest_id(kind, namespace_of(meta), name))
}

/// The stable id manifests mode gives `namespace/name` of `kind`.
pub fn manifest_id(kind: Kind, namespace: &str, name: &str) -> Uuid {
    let kind_space = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://liveops.dev/{}", kind.as_str()).as_bytes(),
    );
    Uuid::new_v5(&kind_space, format!("{namespace}/{name}").as_bytes())
}
