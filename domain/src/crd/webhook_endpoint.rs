//! The `WebhookEndpoint` custom resource: where the relay POSTs events, signed
//! per the Standard Webhooks specification (DESIGN.md, "Event bus").

use chrono::{DateTime, Utc};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::StatusCondition;

/// Desired state of a webhook endpoint: the receiver's URL, the event types
/// it wants, and the Secret holding its signing key.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "liveops.dev",
    version = "v1alpha1",
    kind = "WebhookEndpoint",
    namespaced,
    status = "WebhookEndpointStatus",
    shortname = "lwh",
    category = "liveops",
    derive = "PartialEq",
    doc = "An HTTP receiver of liveops events (Standard Webhooks: signed POSTs of CloudEvents).",
    printcolumn = r#"{"name": "URL", "type": "string", "description": "Where events are POSTed", "jsonPath": ".spec.url"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Whether the spec took effect", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "description": "The Ready condition's message", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name": "Failures", "type": "integer", "description": "Failed attempts since the last success", "jsonPath": ".status.consecutiveFailures"}"#,
    printcolumn = r#"{"name": "Last success", "type": "string", "description": "Last delivery answered with 2xx", "jsonPath": ".status.lastSuccessAt"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookEndpointSpec {
    /// Absolute `http://` or `https://` URL the events are POSTed to. Unless
    /// allowPrivate is set, the relay refuses loopback, private, link-local
    /// and cluster-internal targets without sending a request.
    #[x_kube(validation = Rule::new("self.matches('^(?i)https?://[^\\\\s/?#]+([/?#]\\\\S*)?$')")
        .message("url must be an absolute http:// or https:// URL without spaces")
        .reason(Reason::FieldValueInvalid))]
    #[schemars(length(min = 8, max = 2048))]
    pub url: String,
    /// Event types delivered to this endpoint; empty or absent means every type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "set"), length(max = 3))]
    pub event_types: Vec<WebhookEventType>,
    /// The Secret (same namespace) and key holding the signing secret, as
    /// `whsec_<base64>` (Standard Webhooks) or a bare value used as raw key
    /// bytes.
    pub secret_ref: SecretKeyRef,
    /// Stop delivering without deleting the endpoint; deliveries already
    /// queued wait until it is resumed.
    #[serde(default)]
    pub suspend: bool,
    /// Allow loopback, private (RFC 1918, ULA), link-local, CGNAT and
    /// cluster-internal targets (`*.svc`, `*.cluster.local`, single-label
    /// names). Off by default: the guard against server-side request forgery.
    #[serde(default)]
    pub allow_private: bool,
}

/// The event types a webhook endpoint may subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum WebhookEventType {
    /// A reward was granted (one per successful claim).
    #[serde(rename = "dev.liveops.reward.claimed")]
    RewardClaimed,
    /// The claim that took a reward's last unit.
    #[serde(rename = "dev.liveops.reward.sold_out")]
    RewardSoldOut,
    /// An Event moved from one phase to another.
    #[serde(rename = "dev.liveops.event.phase_changed")]
    EventPhaseChanged,
}

impl WebhookEventType {
    /// The CloudEvents `type`, as stored in `webhook_endpoints.event_types`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RewardClaimed => "dev.liveops.reward.claimed",
            Self::RewardSoldOut => "dev.liveops.reward.sold_out",
            Self::EventPhaseChanged => "dev.liveops.event.phase_changed",
        }
    }
}

/// A key of a Secret in the same namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// `metadata.name` of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key within the Secret's data.
    #[serde(default = "default_secret_key")]
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

fn default_secret_key() -> String {
    "secret".to_owned()
}

/// Observed state of a webhook endpoint: the operator's Ready condition and
/// the delivery health the relay records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointStatus {
    /// `metadata.generation` of the spec this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Observations; `Ready` with reasons such as `Synced`, `Suspended`,
    /// `Disabled` (the receiver answered 410 Gone), `SecretNotFound`,
    /// `SecretInvalid`, `InvalidSpec`, `DatabaseUnavailable`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<StatusCondition>,
    /// When a delivery was last answered with 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<DateTime<Utc>>,
    /// When an attempt last failed (non-2xx answer, timeout, refusal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<DateTime<Utc>>,
    /// HTTP status of the last answer; absent when none came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<i32>,
    /// What went wrong on the last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failed attempts since the last 2xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<i32>,
    /// Why deliveries stopped (the receiver answered 410 Gone); editing the
    /// spec (a new generation) clears it and deliveries resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}
