//! The one role-checking extractor (DESIGN.md, "Security baseline": role
//! checks live in one extractor, not scattered through handlers).
//!
//! A handler states who may call it in its signature:
//! `async fn list_claims(who: Authorized<Staff>, ...)`.

use std::marker::PhantomData;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use uuid::Uuid;

use super::{AppState, error::Error};
use crate::role::Role;

/// Which roles a route admits.
pub trait RolePolicy: Send + Sync + 'static {
    /// Name for logs, e.g. `Staff`.
    const NAME: &'static str;
    /// Whether `role` may call the route.
    fn admits(role: Role) -> bool;
}

/// Any authenticated user.
#[derive(Debug)]
pub struct AnyRole;
/// End users only (USER): claiming rewards.
#[derive(Debug)]
pub struct UsersOnly;
/// ADMIN, OPERATOR and AUDITOR: reading claims and rewards.
#[derive(Debug)]
pub struct Staff;
/// ADMIN and OPERATOR: changing things, such as roles.
#[derive(Debug)]
pub struct Managers;

impl RolePolicy for AnyRole {
    const NAME: &'static str = "AnyRole";
    fn admits(_: Role) -> bool {
        true
    }
}

impl RolePolicy for UsersOnly {
    const NAME: &'static str = "UsersOnly";
    fn admits(role: Role) -> bool {
        role == Role::User
    }
}

impl RolePolicy for Staff {
    const NAME: &'static str = "Staff";
    fn admits(role: Role) -> bool {
        matches!(role, Role::Admin | Role::Operator | Role::Auditor)
    }
}

impl RolePolicy for Managers {
    const NAME: &'static str = "Managers";
    fn admits(role: Role) -> bool {
        matches!(role, Role::Admin | Role::Operator)
    }
}

/// The caller, authenticated by a bearer access token and admitted by `P`.
/// Rejects with 401 (no, malformed, expired or foreign token) or 403 (role
/// not admitted), logging why.
#[derive(Debug)]
pub struct Authorized<P: RolePolicy> {
    /// The caller's user id (`sub`).
    pub user_id: Uuid,
    /// The caller's role as of token issue.
    pub role: Role,
    policy: PhantomData<P>,
}

impl<P: RolePolicy> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            tracing::info!(policy = P::NAME, "rejected: no Authorization header");
            return Err(Error::Unauthorized(
                "an access token is required (Authorization: Bearer ...)",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|text| {
                text.strip_prefix("Bearer ")
                    .or_else(|| text.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty());
        let Some(token) = token else {
            tracing::info!(policy = P::NAME, "rejected: Authorization is not a Bearer token");
            return Err(Error::Unauthorized(
                "the Authorization header must be `Bearer <access token>`",
            ));
        };
        let claims = state.jwt.verify(token).map_err(|reason| {
            tracing::info!(policy = P::NAME, %reason, "rejected: invalid access token");
            Error::Unauthorized("the access token is invalid or expired")
        })?;
        if !P::admits(claims.role) {
            tracing::info!(policy = P::NAME, user_id = %claims.sub, role = %claims.role, "rejected: role not admitted");
            return Err(Error::Forbidden(format!(
                "role {} may not call this endpoint",
                claims.role
            )));
        }
        Ok(Self {
            user_id: claims.sub,
            role: claims.role,
            policy: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{AnyRole, Managers, RolePolicy, Staff, UsersOnly};
    use crate::role::Role;

    fn admitted<P: RolePolicy>() -> Vec<Role> {
        Role::ALL.into_iter().filter(|role| P::admits(*role)).collect()
    }

    #[test]
    fn each_policy_admits_exactly_its_roles() {
        assert_eq!(admitted::<AnyRole>(), Role::ALL.to_vec());
        assert_eq!(admitted::<UsersOnly>(), vec![Role::User]);
        assert_eq!(
            admitted::<Staff>(),
            vec![Role::Operator, Role::Auditor, Role::Admin]
        );
        assert_eq!(admitted::<Managers>(), vec![Role::Operator, Role::Admin]);
    }
}
