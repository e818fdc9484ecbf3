//! The four roles of the seed's `UserRole` and their database/JSON names.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What a user may do. Stored as the Postgres enum `user_role`, written in
/// JSON and JWTs as `USER`, `OPERATOR`, `AUDITOR` or `ADMIN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "user_role", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// An end user: claims rewards.
    User,
    /// Runs events: reads claims, changes roles other than ADMIN.
    Operator,
    /// Reads claims and rewards, changes nothing.
    Auditor,
    /// Everything, including granting and removing ADMIN.
    Admin,
}

impl Role {
    /// Every role, in the order the seed lists them.
    pub const ALL: [Role; 4] = [Role::User, Role::Operator, Role::Auditor, Role::Admin];

    /// The wire name (`USER`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "USER",
            Role::Operator => "OPERATOR",
            Role::Auditor => "AUDITOR",
            Role::Admin => "ADMIN",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected one of USER, OPERATOR, AUDITOR, ADMIN")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Exact wire names only: `admin` is refused rather than guessed.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| UnknownRole(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn parses_every_wire_name_and_round_trips_through_display() {
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn refuses_lowercase_and_unknown_names() {
        assert!("admin".parse::<Role>().is_err());
        assert!("ROOT".parse::<Role>().is_err());
    }

    #[test]
    fn serialises_in_screaming_snake_case() {
        assert_eq!(
            serde_json::to_string(&Role::Operator).ok().as_deref(),
            Some("\"OPERATOR\"")
        );
    }
}
