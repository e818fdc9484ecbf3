//! PATCH /auth/users/{userId}/role: ADMIN and OPERATOR change other users'
//! roles; only an ADMIN grants or removes ADMIN; an ADMIN always remains;
//! the target's sessions end (DESIGN.md, "REST API"; `account::role_change`).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState, Error, Result,
    auth::{Authorized, Managers, RolePolicy},
    error::Problem,
    error_responses::{BodyRefused, PROBLEM_JSON, Unauthenticated, Unavailable},
    extract::{Json, Path},
};
use crate::{
    account::role_change::{self, RoleChange},
    role::Role,
};

/// `/auth/users/{userId}/role`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_user_role))
}

/// The new role, as text so an unknown one is a clear 400.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChangeRequest {
    /// USER, OPERATOR, AUDITOR or ADMIN.
    #[schema(example = "OPERATOR", value_type = Role)]
    pub role: String,
}

/// The changed user.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleChangedUser {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// The new role.
    pub role: Role,
}

/// The seed's wrapping: `{message, user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleChangeResponse {
    /// Human-readable outcome.
    pub message: &'static str,
    /// The user with the new role.
    pub user: RoleChangedUser,
}

/// Changes another user's role and revokes the target's refresh tokens, so
/// the old role lasts at most one access-token lifetime.
#[utoipa::path(
    patch,
    path = "/auth/users/{userId}/role",
    tag = "auth",
    security(("bearer" = [])),
    params(("userId" = Uuid, Path, description = "the user whose role changes")),
    request_body = RoleChangeRequest,
    responses(
        (status = 200, description = "role changed", body = RoleChangeResponse),
        (status = 400, description = "VALIDATION_FAILED (unknown role, malformed userId) or MALFORMED_JSON",
            body = Problem, content_type = PROBLEM_JSON),
        Unauthenticated,
        (status = 403, description = "FORBIDDEN: not ADMIN/OPERATOR, own role, or ADMIN granted/removed by a non-ADMIN",
            body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "NOT_FOUND: no such user", body = Problem, content_type = PROBLEM_JSON),
        (status = 409, description = "ROLE_UNCHANGED, or LAST_ADMIN: the change would leave no ADMIN",
            body = Problem, content_type = PROBLEM_JSON),
        BodyRefused,
        Unavailable,
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.user_id, target = %target_id))]
pub async fn change_user_role(
    State(state): State<AppState>,
    caller: Authorized<Managers>,
    Path(target_id): Path<Uuid>,
    Json(request): Json<RoleChangeRequest>,
) -> Result<Json<RoleChangeResponse>> {
    let new_role: Role = request
        .role
        .parse()
        .map_err(|e: crate::role::UnknownRole| Error::Validation(e.to_string()))?;
    if target_id == caller.user_id {
        return Err(Error::Forbidden("nobody changes their own role".into()));
    }
    let change =
        role_change::change_role(&state.db, caller.user_id, target_id, new_role, Managers::admits).await?;
    let email = match change {
        RoleChange::Changed { email, .. } => email,
        RoleChange::CallerGone => {
            return Err(Error::Unauthorized("the account of this token no longer exists"));
        }
        RoleChange::CallerNotManager(role) => {
            return Err(Error::Forbidden(format!("role {role} may not change roles")));
        }
        RoleChange::TargetNotFound => return Err(Error::NotFound(format!("no user with id {target_id}"))),
        RoleChange::AdminOnly => {
            return Err(Error::Forbidden("only an ADMIN grants or removes ADMIN".into()));
        }
        RoleChange::Unchanged => return Err(Error::RoleUnchanged(new_role)),
        RoleChange::LastAdmin => return Err(Error::LastAdmin),
    };
    Ok(Json(RoleChangeResponse {
        message: "Changed the user's role.",
        user: RoleChangedUser {
            id: target_id,
            email,
            role: new_role,
        },
    }))
}
