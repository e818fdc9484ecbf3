//! The `IngestClient` custom resource: a game-server identity allowed to
//! feed listed Counters (DESIGN.md, "Challenges"). It authenticates at
//! `POST /oauth/token` as `<namespace>/<name>` with a secret whose SHA-256
//! digest is listed in `secretHashes`.

use chrono::{DateTime, Utc};
use kube::{CustomResource, KubeSchema};
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

use super::StatusCondition;

/// Largest `signalsPerMinute`.
pub const MAX_SIGNALS_PER_MINUTE: i32 = 1_000_000;
/// Most counters one client may feed.
pub const MAX_FED_COUNTERS: usize = 64;
/// Pattern of one `secretHashes` entry.
pub const SECRET_HASH_PATTERN: &str = "^sha256:[0-9a-f]{64}$";

/// Desired state of an ingest client: its accepted secrets (hashed), the
/// counters it may feed and its rate.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "liveops.dev",
    version = "v1alpha1",
    kind = "IngestClient",
    namespaced,
    status = "IngestClientStatus",
    shortname = "lic",
    category = "liveops",
    derive = "PartialEq",
    doc = "A game server allowed to post signals to listed Counters (client id `<namespace>/<name>`).",
    printcolumn = r#"{"name": "Suspended", "type": "boolean", "description": "spec.suspend", "jsonPath": ".spec.suspend"}"#,
    printcolumn = r#"{"name": "Signals/min", "type": "integer", "description": "Signals received in the last 60 s", "jsonPath": ".status.signalsPerMinute"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Whether the spec took effect", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "description": "The Ready condition's message", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngestClientSpec {
    /// SHA-256 digests of the accepted secrets, as `sha256:<64 lowercase
    /// hex digits>`; two during a rotation. The raw secret is never stored.
    #[x_kube(validation = Rule::new("self.all(h, h.matches('^sha256:[0-9a-f]{64}$'))")
        .message("each secretHashes entry must be sha256:<64 lowercase hex digits>")
        .reason(Reason::FieldValueInvalid))]
    #[schemars(length(min = 1, max = 2), inner(length(max = 71)), transform = describe_hash_items)]
    pub secret_hashes: Vec<String>,
    /// Names of the Counters (same namespace) this client may feed; 1 to 64, unique.
    #[x_kube(validation = Rule::new("self.all(c, self.exists_one(d, d == c))")
        .message("counters must not list a name twice")
        .reason(Reason::FieldValueDuplicate))]
    #[schemars(length(min = 1, max = 64), inner(length(min = 1, max = 253)), transform = describe_counter_items)]
    pub counters: Vec<String>,
    /// Signals this client may post per minute, 1 to 1,000,000 (default 60,000).
    #[serde(default = "default_signals_per_minute")]
    #[x_kube(validation = Rule::new("self >= 1").message("signalsPerMinute must be at least 1"))]
    #[schemars(range(min = 1, max = MAX_SIGNALS_PER_MINUTE))]
    pub signals_per_minute: i32,
    /// Refuse this client's tokens and signals without deleting it.
    #[serde(default)]
    pub suspend: bool,
}

/// `kubectl explain` text for one `secretHashes` entry.
fn describe_hash_items(schema: &mut Schema) {
    describe_items(
        schema,
        "SHA-256 of one accepted secret: sha256:<64 lowercase hex digits>.",
    );
}

/// `kubectl explain` text for one `counters` entry.
fn describe_counter_items(schema: &mut Schema) {
    describe_items(schema, "metadata.name of a Counter in the same namespace.");
}

/// Gives a list schema's items a description (schemars leaves them bare).
pub(super) fn describe_items(schema: &mut Schema, description: &str) {
    if let Some(items) = schema.get_mut("items").and_then(serde_json::Value::as_object_mut) {
        items.insert("description".to_owned(), description.into());
    }
}

fn default_signals_per_minute() -> i32 {
    60_000
}

/// Observed state of an ingest client, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestClientStatus {
    /// `metadata.generation` of the spec this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// kstatus conditions: `Ready` (reasons `Synced`, `Suspended`),
    /// `Reconciling` (`DatabaseUnavailable`), `Stalled` (`InvalidSpec`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<StatusCondition>,
    /// When this client's last signal was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_signal_at: Option<DateTime<Utc>>,
    /// Signals this client posted in the last 60 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub signals_per_minute: Option<i64>,
}

/// The 32-byte digest of one `secretHashes` entry; `None` when it is not
/// `sha256:<64 lowercase hex digits>`.
pub fn secret_digest(entry: &str) -> Option<[u8; 32]> {
    let hex = entry.strip_prefix("sha256:")?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(digest)
}
