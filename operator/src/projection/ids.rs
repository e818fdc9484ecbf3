//! Identity of projected definitions: `(kind, namespace, name)`, never the
//! object uid, and the id a new row gets from it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The kinds the operator reads, for ids, the resource_status table and
/// manifests mode's object keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Event,
    Reward,
    WebhookEndpoint,
    Counter,
    IngestClient,
    /// A `v1` Secret in a manifests directory: read for the signing secrets
    /// WebhookEndpoints name, never projected and without a status.
    Secret,
}

impl Kind {
    /// The kind's name as in `kind:` and resource_status.kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "Event",
            Self::Reward => "Reward",
            Self::WebhookEndpoint => "WebhookEndpoint",
            Self::Counter => "Counter",
            Self::IngestClient => "IngestClient",
            Self::Secret => "Secret",
        }
    }
}

/// `metadata.namespace`, defaulting like kubectl does.
pub fn namespace_of(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

/// `(namespace, name)` of an object: the key of its row in `events` or
/// `rewards` (unique since migrations/0022), in a cluster and in manifests
/// mode alike.
pub fn definition_key(meta: &ObjectMeta) -> Result<(&str, &str)> {
    let name = meta.name.as_deref().ok_or(Error::MissingMetadata("name"))?;
    Ok((namespace_of(meta), name))
}

/// The id a *new* row of `namespace/name` of `kind` gets: a UUIDv5 of the
/// three, in both modes.
///
/// Rows are found by `(namespace, name)`, and an existing row keeps the id
/// it has (rows created before migrations/0022 carry the object uid), so
/// this id only matters the first time a name is seen. It is derived rather
/// than taken from the uid so that it is the same whichever mode or
/// incarnation creates the row: a re-created object (`kubectl replace
/// --force`, a reinstall) gets a new uid but must keep its row, and API
/// clients hold these ids.
pub fn definition_id(kind: Kind, namespace: &str, name: &str) -> Uuid {
    let kind_space = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://liveops.dev/{}", kind.as_str()).as_bytes(),
    );
    Uuid::new_v5(&kind_space, format!("{namespace}/{name}").as_bytes())
}
