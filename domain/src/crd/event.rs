//! The `Event` custom resource: a time-boxed reward event (DESIGN.md, "Custom resources").

use chrono::{DateTime, Utc};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::{EventPhase, StatusCondition};
use crate::{ClaimFrequency, ConditionSpec};

/// Desired state of an Event: its window, its condition and its claim policy.
///
/// The object name is the event's unique name (the seed's "event name is unique").
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "liveops.dev",
    version = "v1alpha1",
    kind = "Event",
    namespaced,
    status = "EventStatus",
    shortname = "lev",
    category = "liveops",
    derive = "PartialEq",
    doc = "A time-boxed reward event: users who meet its condition inside [startsAt, endsAt) may claim its Rewards.",
    printcolumn = r#"{"name": "Phase", "type": "string", "description": "Lifecycle phase", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Whether the spec took effect", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "description": "The Ready condition's message", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name": "Starts", "type": "string", "description": "Start of the window (RFC 3339)", "jsonPath": ".spec.startsAt"}"#,
    printcolumn = r#"{"name": "Ends", "type": "string", "description": "End of the window (RFC 3339, exclusive)", "jsonPath": ".spec.endsAt"}"#,
    printcolumn = r#"{"name": "Claims", "type": "integer", "description": "Successful claims across the event's rewards", "jsonPath": ".status.claimsTotal"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("self.endsAt > self.startsAt")
        .message("endsAt must be after startsAt")
        .field_path(".endsAt")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new(
        "!has(self.condition) || !has(self.condition.loginStreak) || \
         self.endsAt - self.startsAt >= duration(string(self.condition.loginStreak.days * 24 - 1) + 'h')"
    )
        .message("condition.loginStreak.days does not fit inside [startsAt, endsAt)")
        .field_path(".condition.loginStreak.days")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new(
        "!has(self.condition) || !has(self.condition.loginDays) || \
         self.endsAt - self.startsAt >= duration(string(self.condition.loginDays.days * 24 - 1) + 'h')"
    )
        .message("condition.loginDays.days does not fit inside [startsAt, endsAt)")
        .field_path(".condition.loginDays.days")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new("!has(self.announceAt) || self.announceAt <= self.startsAt")
        .message("announceAt must not be after startsAt")
        .field_path(".announceAt")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new("!has(self.claimUntil) || self.claimUntil >= self.endsAt")
        .message("claimUntil must not be before endsAt")
        .field_path(".claimUntil")
        .reason(Reason::FieldValueInvalid),
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSpec {
    /// Name shown to players.
    pub display_name: String,
    /// Longer text shown to players.
    #[serde(default)]
    pub description: String,
    /// Start of the event window (RFC 3339, inclusive): the event becomes
    /// Active at exactly this instant.
    pub starts_at: DateTime<Utc>,
    /// End of the event window (RFC 3339, exclusive): the event is Ended at
    /// exactly this instant. Must be after startsAt.
    pub ends_at: DateTime<Utc>,
    /// When players first see the event (RFC 3339; at most startsAt): it is
    /// listed as Scheduled from then on and unknown to players before.
    /// Absent: listed as soon as it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce_at: Option<DateTime<Utc>>,
    /// End of the grace window (RFC 3339; at least endsAt): claims still
    /// work after endsAt until this instant, while counters have stopped
    /// counting. Absent: claims end at endsAt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_until: Option<DateTime<Utc>>,
    /// IANA time zone name (e.g. `Asia/Seoul`) that defines a "day" for
    /// streaks, distinct login days and Daily/Weekly claim periods.
    #[serde(default = "default_time_zone")]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$')")
        .message("timeZone must be an IANA zone name such as UTC or Asia/Seoul")
        .reason(Reason::FieldValueInvalid))]
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: String,
    /// What a user must have done to claim: an object with at most one key
    /// (`loginStreak`, `loginDays`, `referrals`, `profileComplete`). Absent
    /// or `{}` means anyone may claim while the event is Active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(
        validation = Rule::new(
            "[has(self.loginStreak), has(self.loginDays), has(self.referrals), has(self.profileComplete)]\
             .filter(k, k).size() <= 1"
        )
            .message("condition must set at most one kind")
            .reason(Reason::FieldValueInvalid),
        validation = Rule::new(
            "(!has(self.loginStreak) || self.loginStreak.days >= 1) && \
             (!has(self.loginDays) || self.loginDays.days >= 1) && \
             (!has(self.referrals) || self.referrals.count >= 1)"
        )
            .message("condition counts (days, count) must be at least 1")
            .reason(Reason::FieldValueInvalid),
    )]
    pub condition: Option<ConditionSpec>,
    /// How often one user may claim each reward of this event, and how many
    /// distinct rewards of it.
    #[serde(default)]
    pub claim_policy: ClaimPolicy,
    /// Pause claims without deleting the event: the phase becomes Suspended
    /// (until endsAt) and Ready stays True, since the spec took effect.
    #[serde(default)]
    pub suspend: bool,
    /// Cap on successful claims across all users and rewards of this event
    /// (absent = no cap); 1 to 1,000,000,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1").message("maxClaims must be at least 1"))]
    #[schemars(range(min = 1, max = MAX_CLAIMS))]
    pub max_claims: Option<i32>,
}

/// Largest `maxClaims`.
pub const MAX_CLAIMS: i32 = 1_000_000_000;
/// Largest `claimPolicy.maxRewardsPerUser`.
pub const MAX_REWARDS_PER_USER: i32 = 10_000;

fn default_time_zone() -> String {
    "UTC".to_owned()
}

/// How often one user may claim, and how many of the event's rewards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[x_kube(
    validation = Rule::new("!has(self.resetAt) || (has(self.frequency) && self.frequency != 'Once')")
        .message("resetAt applies to Daily and Weekly claim periods only")
        .field_path(".resetAt")
        .reason(Reason::FieldValueInvalid),
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimPolicy {
    /// `Once` for the whole event (default), `Daily` (per local day) or
    /// `Weekly` (per ISO week, local time).
    #[serde(default)]
    pub frequency: ClaimFrequency,
    /// Distinct rewards of this event one user may take per claim period
    /// (absent = no event-wide limit); at least 1. Each reward's own
    /// perUserLimit still limits how often that reward is taken. At most 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1").message("maxRewardsPerUser must be at least 1"))]
    #[schemars(range(min = 1, max = MAX_REWARDS_PER_USER))]
    pub max_rewards_per_user: Option<i32>,
    /// Local time of day (`HH:MM`, 24-hour, in the event's time zone) at
    /// which a Daily or Weekly period turns over; default `00:00`. A reset
    /// hour stays at that local time across daylight-saving changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^([01][0-9]|2[0-3]):[0-5][0-9]$')")
        .message("resetAt must be a local time HH:MM, 00:00 to 23:59")
        .reason(Reason::FieldValueInvalid))]
    pub reset_at: Option<String>,
}

/// Observed state of an Event, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventStatus {
    /// Scheduled, Active, Ended, Suspended or Invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<EventPhase>,
    /// `metadata.generation` of the spec this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// kstatus conditions: `Ready` (True with reason `Synced` once the spec
    /// took effect, Suspended events included), `Stalled` (True while the
    /// spec is invalid, e.g. `InvalidSpec`: edit the spec) and `Reconciling`
    /// (True while the operator retries, e.g. `DatabaseUnavailable`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<StatusCondition>,
    /// The next instant the phase changes (startsAt or endsAt); absent when
    /// no change is ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_transition_time: Option<DateTime<Utc>>,
    /// Successful claims across all rewards of this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub claims_total: Option<i64>,
}
