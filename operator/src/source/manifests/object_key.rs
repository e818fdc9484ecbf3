//! The key manifests mode tracks each loaded object under.

use std::fmt;

use crate::projection::Kind;

/// Which object a document declares. Ordered by kind, then namespace, then
/// name: the order the tracked maps iterate in and the safety-net cursor
/// moves along.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// `(namespace, name)`: how the projection's maps key a row.
    pub fn namespaced_name(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

/// `Kind/namespace/name`, the per-object key the cluster controllers give
/// the phase gauge.
impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}
