//! The condition a user must meet to claim an event's rewards.
//!
//! In YAML it is a one-of object with exactly one key, like a Kubernetes
//! volume source: `condition: {loginStreak: {days: 7}}`. The same JSON shape
//! is stored in `events.condition`; `{}` (or no `condition`) means none.
//!
//! Adding a kind: add its field to [`ConditionSpec`], its variant to
//! [`ConditionKind`] (and the match in `kind`), and one evaluator file in
//! the API server's claim module.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Largest `days` of `loginStreak`/`loginDays`: a year, leap day included.
pub const MAX_DAYS: i32 = 366;
/// Largest `referrals.count`.
pub const MAX_REFERRALS: i32 = 1_000_000;

/// `loginStreak` and `loginDays` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaysCondition {
    /// Number of local days (event time zone); 1 to 366, and no more than
    /// the window spans.
    #[schemars(range(min = 1, max = MAX_DAYS))]
    pub days: i32,
}

/// `referrals` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReferralsCondition {
    /// Invitees who signed up with the user's invite code inside the event
    /// window; 1 to 1,000,000.
    #[schemars(range(min = 1, max = MAX_REFERRALS))]
    pub count: i32,
    /// Count only invitees who verified their email address (opened the
    /// link of the verification mail); default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified_only: bool,
}

/// `profileComplete` has no parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileCompleteCondition {}

/// The condition as written in the CRD: at most one field set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionSpec {
    /// A run of `days` consecutive local days, each with at least one login,
    /// inside the event window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_streak: Option<DaysCondition>,
    /// At least `days` distinct local days with a login inside the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_days: Option<DaysCondition>,
    /// At least `count` invitees signed up with the user's code inside the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrals: Option<ReferralsCondition>,
    /// Nickname, bio and profile image URL all set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_complete: Option<ProfileCompleteCondition>,
}

/// The condition as the domain sees it: exactly one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionKind {
    /// Anyone may claim while the event is active.
    None,
    LoginStreak {
        days: u32,
    },
    LoginDays {
        days: u32,
    },
    Referrals {
        count: u32,
        /// Only invitees with a verified email count.
        verified_only: bool,
    },
    ProfileComplete,
}

/// Why a [`ConditionSpec`] is not a valid condition.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConditionError {
    #[error("condition must set exactly one kind, found {0}")]
    SeveralKinds(usize),
    #[error("condition.{0} must be at least 1")]
    BelowOne(&'static str),
    #[error("condition.{0} must be at most {1}")]
    AboveMax(&'static str, i32),
}

/// `value` as a count in `1..=max`, or why not (`field` names it in the error).
fn count_in_range(value: i32, max: i32, field: &'static str) -> Result<u32, ConditionError> {
    if value > max {
        return Err(ConditionError::AboveMax(field, max));
    }
    u32::try_from(value)
        .ok()
        .filter(|value| *value >= 1)
        .ok_or(ConditionError::BelowOne(field))
}

impl ConditionSpec {
    /// Validates the one-of and the minimums, yielding the single kind.
    pub fn kind(&self) -> Result<ConditionKind, ConditionError> {
        let set = [
            self.login_streak.is_some(),
            self.login_days.is_some(),
            self.referrals.is_some(),
            self.profile_complete.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        if set > 1 {
            return Err(ConditionError::SeveralKinds(set));
        }
        Ok(match self {
            Self {
                login_streak: Some(c),
                ..
            } => ConditionKind::LoginStreak {
                days: count_in_range(c.days, MAX_DAYS, "loginStreak.days")?,
            },
            Self {
                login_days: Some(c), ..
            } => ConditionKind::LoginDays {
                days: count_in_range(c.days, MAX_DAYS, "loginDays.days")?,
            },
            Self {
                referrals: Some(c), ..
            } => ConditionKind::Referrals {
                count: count_in_range(c.count, MAX_REFERRALS, "referrals.count")?,
                verified_only: c.verified_only,
            },
            Self {
                profile_complete: Some(_),
                ..
            } => ConditionKind::ProfileComplete,
            _ => ConditionKind::None,
        })
    }
}

impl ConditionKind {
    /// Short name used in printer columns and API responses.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::LoginStreak { .. } => "loginStreak",
            Self::LoginDays { .. } => "loginDays",
            Self::Referrals { .. } => "referrals",
            Self::ProfileComplete => "profileComplete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ConditionSpec {
        serde_json::from_str(json).expect("valid condition JSON")
    }

    #[test]
    fn empty_object_is_none() {
        assert_eq!(parse("{}").kind(), Ok(ConditionKind::None));
    }

    #[test]
    fn one_key_gives_its_kind() {
        assert_eq!(
            parse(r#"{"loginStreak":{"days":7}}"#).kind(),
            Ok(ConditionKind::LoginStreak { days: 7 })
        );
        assert_eq!(
            parse(r#"{"profileComplete":{}}"#).kind(),
            Ok(ConditionKind::ProfileComplete)
        );
        assert_eq!(
            parse(r#"{"referrals":{"count":3}}"#).kind(),
            Ok(ConditionKind::Referrals {
                count: 3,
                verified_only: false
            })
        );
        assert_eq!(
            parse(r#"{"referrals":{"count":2,"verifiedOnly":true}}"#).kind(),
            Ok(ConditionKind::Referrals {
                count: 2,
                verified_only: true
            })
        );
    }

    #[test]
    fn two_keys_are_rejected() {
        let spec = parse(r#"{"loginDays":{"days":2},"referrals":{"count":1}}"#);
        assert_eq!(spec.kind(), Err(ConditionError::SeveralKinds(2)));
    }

    #[test]
    fn zero_is_rejected() {
        assert_eq!(
            parse(r#"{"loginDays":{"days":0}}"#).kind(),
            Err(ConditionError::BelowOne("loginDays.days"))
        );
    }

    #[test]
    fn negative_and_too_large_counts_are_rejected() {
        assert_eq!(
            parse(r#"{"loginStreak":{"days":-3}}"#).kind(),
            Err(ConditionError::BelowOne("loginStreak.days"))
        );
        assert_eq!(
            parse(r#"{"loginDays":{"days":367}}"#).kind(),
            Err(ConditionError::AboveMax("loginDays.days", MAX_DAYS))
        );
        assert_eq!(
            parse(r#"{"referrals":{"count":1000001}}"#).kind(),
            Err(ConditionError::AboveMax("referrals.count", MAX_REFERRALS))
        );
    }

    #[test]
    fn unknown_kind_is_a_parse_error() {
        assert!(serde_json::from_str::<ConditionSpec>(r#"{"purchases":{"count":1}}"#).is_err());
    }
}
