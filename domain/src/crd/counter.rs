//! The `Counter` custom resource: a named number per user that trusted game
//! servers feed through `POST /signals` (DESIGN.md, "Challenges").

use chrono::{DateTime, Utc};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EventRef, StatusCondition};

/// Largest magnitude of `minAmount`/`maxAmount`: 2^53 - 1, the largest
/// integer a JSON number carries exactly in every client.
pub const MAX_SAFE_AMOUNT: i64 = 9_007_199_254_740_991;

/// Desired state of a Counter: the Event whose window it counts in, how
/// signals combine, and the bounds of one signal.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "liveops.dev",
    version = "v1alpha1",
    kind = "Counter",
    namespaced,
    status = "CounterStatus",
    shortname = "lcn",
    category = "liveops",
    derive = "PartialEq",
    doc = "A per-user number fed by game servers (IngestClients), counted inside one Event's window.",
    printcolumn = r#"{"name": "Event", "type": "string", "description": "The Event whose window it counts in", "jsonPath": ".spec.eventRef.name"}"#,
    printcolumn = r#"{"name": "Aggregation", "type": "string", "description": "How signals combine", "jsonPath": ".spec.aggregation"}"#,
    printcolumn = r#"{"name": "Signals/min", "type": "integer", "description": "Signals received in the last 60 s", "jsonPath": ".status.signalsPerMinute"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Whether the spec took effect", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "description": "The Ready condition's message", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("!has(self.minAmount) || !has(self.maxAmount) || self.minAmount <= self.maxAmount")
        .message("minAmount must not exceed maxAmount")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new("self.aggregation != 'DistinctDays' || (!has(self.minAmount) && !has(self.maxAmount))")
        .message("a DistinctDays counter takes no minAmount or maxAmount")
        .reason(Reason::FieldValueForbidden)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CounterSpec {
    /// The Event (same namespace) whose window the counter counts in.
    /// Immutable: the values already counted belong to that event.
    #[x_kube(validation = Rule::new("self == oldSelf").message("eventRef is immutable").reason(Reason::FieldValueForbidden))]
    pub event_ref: EventRef,
    /// Name shown to players (progress bars, reward requirements).
    #[schemars(length(min = 1, max = 200))]
    pub display_name: String,
    /// Longer text shown to players.
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub description: String,
    /// How signals combine into the value: `Sum` adds each `delta`, `Max`
    /// keeps the largest `value`, `DistinctDays` counts the local days
    /// (event time zone) with at least one signal. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("aggregation is immutable").reason(Reason::FieldValueForbidden))]
    pub aggregation: CounterAggregation,
    /// Smallest `delta` (Sum) or `value` (Max) one signal may carry;
    /// -(2^53-1) to 2^53-1. Not for DistinctDays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -MAX_SAFE_AMOUNT, max = MAX_SAFE_AMOUNT))]
    pub min_amount: Option<i64>,
    /// Largest `delta` (Sum) or `value` (Max) one signal may carry;
    /// -(2^53-1) to 2^53-1, at least minAmount. Not for DistinctDays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -MAX_SAFE_AMOUNT, max = MAX_SAFE_AMOUNT))]
    pub max_amount: Option<i64>,
}

/// How a counter's signals combine (`counters.aggregation`, migration 0037).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum CounterAggregation {
    /// The sum of every signal's `delta`.
    Sum,
    /// The largest `value` signalled.
    Max,
    /// Distinct local days with at least one signal.
    DistinctDays,
}

impl CounterAggregation {
    /// The name as in YAML and in the `counter_aggregation` enum.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "Sum",
            Self::Max => "Max",
            Self::DistinctDays => "DistinctDays",
        }
    }
}

/// Observed state of a Counter, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CounterStatus {
    /// `metadata.generation` of the spec this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// kstatus conditions: `Ready` (True with reason `Synced` once
    /// projected under its Event), `Reconciling` (e.g. `EventNotFound`
    /// until the Event is applied, `DatabaseUnavailable`) and `Stalled`
    /// (`InvalidSpec`, `EventRefChanged`, `AggregationChanged`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<StatusCondition>,
    /// When the last signal for this counter was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_signal_at: Option<DateTime<Utc>>,
    /// Signals received in the last 60 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub signals_per_minute: Option<i64>,
    /// Names of the Rewards (same namespace) whose `requires` mention this counter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(transform = describe_reward_items)]
    pub rewards: Vec<String>,
}

/// `kubectl explain` text for one `status.rewards` entry.
fn describe_reward_items(schema: &mut schemars::Schema) {
    super::ingest_client::describe_items(schema, "metadata.name of a Reward requiring this counter.");
}
