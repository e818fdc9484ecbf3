//! The `Reward` custom resource: stock handed out by one Event (DESIGN.md, "Custom resources").

use kube::{CustomResource, KubeSchema};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::{Payload, StatusCondition, requirement::Requirement};

/// Desired state of a Reward: which event hands it out, how much stock, and
/// what the game receives on a claim.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "liveops.dev",
    version = "v1alpha1",
    kind = "Reward",
    namespaced,
    status = "RewardStatus",
    shortname = "lrw",
    category = "liveops",
    derive = "PartialEq",
    doc = "A reward handed out by one Event in the same namespace.",
    printcolumn = r#"{"name": "Event", "type": "string", "description": "The Event that hands it out", "jsonPath": ".spec.eventRef.name"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Whether the spec took effect", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "description": "The Ready condition's message", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name": "Claimed", "type": "integer", "description": "Successful claims so far", "jsonPath": ".status.claimed"}"#,
    printcolumn = r#"{"name": "Remaining", "type": "integer", "description": "Stock left; empty when unlimited", "jsonPath": ".status.remaining"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewardSpec {
    /// The Event (same namespace) that hands out this reward. Immutable:
    /// claims already made belong to that event.
    #[x_kube(validation = Rule::new("self == oldSelf").message("eventRef is immutable").reason(Reason::FieldValueForbidden))]
    pub event_ref: EventRef,
    /// Name shown to players.
    pub display_name: String,
    /// Longer text shown to players.
    #[serde(default)]
    pub description: String,
    /// Total stock, 0 to 1,000,000,000; absent means unlimited. Editing it
    /// never resets what was already claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("quantity must not be negative"))]
    #[schemars(range(min = 0, max = MAX_QUANTITY))]
    pub quantity: Option<i32>,
    /// How many times one user may claim this reward per claim period: it
    /// counts claims of this reward only (per period); the Event's
    /// claimPolicy.maxRewardsPerUser limits distinct rewards across the event.
    /// 1 (default) to 1,000,000.
    #[serde(default = "default_per_user_limit")]
    #[x_kube(validation = Rule::new("self >= 1").message("perUserLimit must be at least 1"))]
    #[schemars(range(min = 1, max = MAX_PER_USER_LIMIT))]
    pub per_user_limit: i32,
    /// Free-form object handed to the game on a claim (item code, amount, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub payload: Option<Payload>,
    /// What a user must have done to claim this reward (counters reached,
    /// other rewards claimed); ANDed with the Event's condition. Tiers are
    /// Rewards on one counter with rising `atLeast`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::requirement::requires_schema")]
    pub requires: Option<Requirement>,
}

/// Largest `quantity`.
pub const MAX_QUANTITY: i32 = 1_000_000_000;
/// Largest `perUserLimit`.
pub const MAX_PER_USER_LIMIT: i32 = 1_000_000;

fn default_per_user_limit() -> i32 {
    1
}

fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "Free-form object handed to the game on a claim (item code, amount, ...).",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// Reference to an Event in the same namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRef {
    /// `metadata.name` of the Event.
    #[schemars(length(min = 1))]
    pub name: String,
}

/// Observed state of a Reward, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardStatus {
    /// Successful claims so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub claimed: Option<i64>,
    /// Stock left (quantity - claimed); absent when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub remaining: Option<i64>,
    /// kstatus conditions: `Ready` (True with reason `Synced` once projected
    /// under its Event), `Reconciling` (True while the operator retries or
    /// waits, e.g. `EventNotFound` until the Event is applied,
    /// `DatabaseUnavailable`) and `Stalled` (True when only a spec edit can
    /// help, e.g. `InvalidSpec`, `EventRefChanged`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<StatusCondition>,
    /// `metadata.generation` of the spec this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
}
