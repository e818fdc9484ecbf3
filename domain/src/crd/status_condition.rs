//! `status.conditions` entries in the shape of metav1.Condition, the one
//! rule for updating them (`lastTransitionTime` moves only when the status
//! flips), and the kstatus trio every kind carries: `Ready`, `Reconciling`,
//! `Stalled` (<https://github.com/kubernetes-sigs/cli-utils/blob/master/pkg/kstatus/README.md>).
//!
//! A kind's reconcile decides one [`Health`] and calls [`set_health`]; the
//! printer columns, `kubectl wait --for=condition=Ready`, the Argo CD Lua
//! check and the Flux CEL expressions in `docs/gitops/` all read the result.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Truth value of a condition, as in metav1.Condition: `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// Condition type that is `True` once the spec took effect.
pub const READY: &str = "Ready";
/// Condition type present (`True`) while the controller works towards the
/// spec and expects to get there without a spec change (kstatus
/// "abnormal-true": absent otherwise).
pub const RECONCILING: &str = "Reconciling";
/// Condition type present (`True`) when the controller cannot make progress
/// until the spec changes (kstatus "abnormal-true": absent otherwise).
pub const STALLED: &str = "Stalled";

/// What a reconcile concluded about an object, in kstatus terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// The spec took effect: Ready=True; Reconciling and Stalled removed.
    Ready,
    /// Work is in progress or will be retried (database down, a referenced
    /// object not there yet): Ready=False and Reconciling=True.
    Reconciling,
    /// The spec cannot take effect as written: Ready=False and Stalled=True.
    Stalled,
}

/// Sets the kstatus trio on `conditions` for `health`, each entry carrying
/// `reason`, `message` and `generation`, and keeps `Ready` first (printer
/// columns and older tooling read the first entry).
///
/// Goes through [`set_condition`], so re-applying the same health keeps
/// every `lastTransitionTime`: an unchanged object yields an identical status.
pub fn set_health(
    conditions: &mut Vec<StatusCondition>,
    health: Health,
    reason: &str,
    message: &str,
    generation: i64,
    now: DateTime<Utc>,
) {
    let message = within_limit(message);
    let entry = |type_: &str, status| StatusCondition {
        type_: type_.to_owned(),
        status,
        reason: reason.to_owned(),
        message: message.to_owned(),
        last_transition_time: now,
        observed_generation: Some(generation),
    };
    let (ready, present, absent): (_, _, &[&str]) = match health {
        Health::Ready => (ConditionStatus::True, None, &[RECONCILING, STALLED]),
        Health::Reconciling => (ConditionStatus::False, Some(RECONCILING), &[STALLED]),
        Health::Stalled => (ConditionStatus::False, Some(STALLED), &[RECONCILING]),
    };
    set_condition(conditions, entry(READY, ready));
    if let Some(type_) = present {
        set_condition(conditions, entry(type_, ConditionStatus::True));
    }
    conditions.retain(|condition| !absent.contains(&condition.type_.as_str()));
    // Stable: other condition types keep their relative order.
    conditions.sort_by_key(|condition| condition.type_ != READY);
    // `set_condition` may grow the vector past its length; at 40,000
    // objects the spare slots are megabytes.
    conditions.shrink_to_fit();
}

/// Longest `message` the schema admits (metav1.Condition's limit); a longer
/// one would make the API server refuse the whole status.
pub const MAX_MESSAGE_BYTES: usize = 32768;

/// `message` cut to [`MAX_MESSAGE_BYTES`] at a character boundary.
fn within_limit(message: &str) -> &str {
    let mut end = message.len().min(MAX_MESSAGE_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// The condition of type `type_`, if present.
pub fn find_condition<'a>(conditions: &'a [StatusCondition], type_: &str) -> Option<&'a StatusCondition> {
    conditions.iter().find(|condition| condition.type_ == type_)
}

/// One observation about the object (metav1.Condition shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCondition {
    /// Condition type: `Ready`, `Reconciling` or `Stalled`; unique within
    /// the list.
    #[serde(rename = "type")]
    #[schemars(length(min = 1, max = 316))]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// Machine-readable CamelCase reason, e.g. `Synced`, `InvalidSpec`,
    /// `EventNotFound`, `DatabaseUnavailable`.
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,
    /// Human-readable detail: what the object is doing or what to fix.
    #[serde(default)]
    #[schemars(length(max = MAX_MESSAGE_BYTES))]
    pub message: String,
    /// When `status` last changed (not when the condition was last written).
    pub last_transition_time: DateTime<Utc>,
    /// `metadata.generation` this condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
}

/// Puts `wanted` into `conditions`, replacing the entry of the same type.
///
/// The existing `lastTransitionTime` is kept unless the status flips, so
/// re-writing an unchanged condition produces an identical status (and no
/// watch event that would wake the controller again).
pub fn set_condition(conditions: &mut Vec<StatusCondition>, mut wanted: StatusCondition) {
    match conditions.iter_mut().find(|c| c.type_ == wanted.type_) {
        Some(existing) => {
            if existing.status == wanted.status {
                wanted.last_transition_time = existing.last_transition_time;
            }
            *existing = wanted;
        }
        None => conditions.push(wanted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(status: ConditionStatus, reason: &str, at: i64) -> StatusCondition {
        StatusCondition {
            type_: "Ready".into(),
            status,
            reason: reason.into(),
            message: String::new(),
            last_transition_time: DateTime::from_timestamp(at, 0).expect("valid timestamp"),
            observed_generation: Some(1),
        }
    }

    #[test]
    fn same_status_keeps_the_transition_time() {
        let mut list = vec![ready(ConditionStatus::True, "Synced", 100)];
        set_condition(&mut list, ready(ConditionStatus::True, "Synced", 200));
        assert_eq!(list, vec![ready(ConditionStatus::True, "Synced", 100)]);
    }

    #[test]
    fn a_flip_moves_the_transition_time() {
        let mut list = vec![ready(ConditionStatus::True, "Synced", 100)];
        set_condition(&mut list, ready(ConditionStatus::False, "InvalidSpec", 200));
        assert_eq!(list, vec![ready(ConditionStatus::False, "InvalidSpec", 200)]);
    }

    fn types(list: &[StatusCondition]) -> Vec<(&str, ConditionStatus)> {
        list.iter().map(|c| (c.type_.as_str(), c.status)).collect()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("valid timestamp")
    }

    #[test]
    fn stalled_then_ready_removes_stalled_and_flips_ready_once() {
        let mut list = vec![];
        set_health(
            &mut list,
            Health::Stalled,
            "InvalidSpec",
            "spec.endsAt: bad",
            2,
            at(10),
        );
        assert_eq!(
            types(&list),
            [(READY, ConditionStatus::False), (STALLED, ConditionStatus::True)]
        );
        assert!(
            list.iter()
                .all(|c| c.observed_generation == Some(2) && c.message == "spec.endsAt: bad")
        );
        set_health(&mut list, Health::Ready, "Synced", "phase Active", 3, at(20));
        assert_eq!(types(&list), [(READY, ConditionStatus::True)]);
        assert_eq!(list[0].last_transition_time, at(20));
        set_health(&mut list, Health::Ready, "Synced", "phase Active", 3, at(30));
        assert_eq!(
            list[0].last_transition_time,
            at(20),
            "no flip, no new transition time"
        );
    }

    #[test]
    fn reconciling_replaces_stalled_and_keeps_ready_first() {
        let mut list = vec![ready(ConditionStatus::Unknown, "Other", 1)];
        list[0].type_ = "Custom".into();
        set_health(&mut list, Health::Stalled, "InvalidSpec", "x", 1, at(1));
        set_health(
            &mut list,
            Health::Reconciling,
            "DatabaseUnavailable",
            "down",
            1,
            at(2),
        );
        assert_eq!(
            types(&list),
            [
                (READY, ConditionStatus::False),
                ("Custom", ConditionStatus::Unknown),
                (RECONCILING, ConditionStatus::True)
            ]
        );
        assert_eq!(list[0].last_transition_time, at(1), "Ready stayed False");
        assert_eq!(
            find_condition(&list, RECONCILING).map(|c| c.reason.as_str()),
            Some("DatabaseUnavailable")
        );
    }

    #[test]
    fn an_overlong_message_is_cut_at_a_character_boundary() {
        let mut list = vec![];
        let message = "é".repeat(MAX_MESSAGE_BYTES);
        set_health(&mut list, Health::Stalled, "InvalidSpec", &message, 1, at(1));
        assert!(
            list.iter()
                .all(|c| c.message.len() == MAX_MESSAGE_BYTES && c.message.starts_with('é'))
        );
    }

    #[test]
    fn a_new_type_is_appended() {
        let mut list = vec![];
        set_condition(&mut list, ready(ConditionStatus::Unknown, "Pending", 5));
        assert_eq!(list.len(), 1);
    }
}
