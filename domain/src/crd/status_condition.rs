//! `status.conditions` entries in the shape of metav1.Condition, and the one
//! rule for updating them: `lastTransitionTime` moves only when the status flips.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Truth value of a condition, as in metav1.Condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// One observation about the object (metav1.Condition shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCondition {
    /// Condition type, e.g. `Ready`; unique within the list.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// Machine-readable CamelCase reason, e.g. `Synced`, `InvalidSpec`,
    /// `EventNotFound`, `DatabaseUnavailable`.
    pub reason: String,
    /// Human-readable detail.
    #[serde(default)]
    pub message: String,
    /// When `status` last changed (not when the condition was last written).
    pub last_transition_time: DateTime<Utc>,
    /// `metadata.generation` this condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

    #[test]
    fn a_new_type_is_appended() {
        let mut list = vec![];
        set_condition(&mut list, ready(ConditionStatus::Unknown, "Pending", 5));
        assert_eq!(list.len(), 1);
    }
}
