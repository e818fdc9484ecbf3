//! Changing a user's role (DESIGN.md, "REST API"): ADMIN and OPERATOR change
//! other users' roles, only an ADMIN grants or removes ADMIN, and no change
//! ever leaves the system without an ADMIN.
//!
//! Both rows are locked, in id order (so two changes on the same pair wait
//! for each other instead of deadlocking), before anything is decided: two
//! ADMINs demoting each other at once are serialised, and the second sees
//! that its caller is no longer an ADMIN. A changed role revokes the
//! target's refresh tokens, so the old role lives at most one access-token
//! lifetime.

use sqlx::PgPool;
use uuid::Uuid;

use super::session;
use crate::role::Role;

/// What a role change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    /// Changed.
    Changed {
        /// The target's email.
        email: String,
        /// The role before.
        from: Role,
    },
    /// The caller's account is gone.
    CallerGone,
    /// The caller's stored role may not change roles.
    CallerNotManager(Role),
    /// No such target user.
    TargetNotFound,
    /// ADMIN granted or removed by a non-ADMIN.
    AdminOnly,
    /// The target has this role already.
    Unchanged,
    /// The change would leave no ADMIN.
    LastAdmin,
}

/// Changes `target_id`'s role to `new_role` on behalf of `caller_id` (not
/// the same user; the caller checks). `is_manager` says which stored roles
/// may change roles.
pub async fn change_role(
    db: &PgPool,
    caller_id: Uuid,
    target_id: Uuid,
    new_role: Role,
    is_manager: impl Fn(Role) -> bool,
) -> sqlx::Result<RoleChange> {
    let mut tx = db.begin().await?;
    let rows = sqlx::query!(
        r#"select id, email, role as "role: Role" from users
           where id = any($1) order by id for update"#,
        &[caller_id, target_id][..],
    )
    .fetch_all(&mut *tx)
    .await?;
    let Some(caller) = rows.iter().find(|row| row.id == caller_id) else {
        return Ok(RoleChange::CallerGone);
    };
    // The token's role may be up to 15 minutes old; decide on the stored one.
    if !is_manager(caller.role) {
        return Ok(RoleChange::CallerNotManager(caller.role));
    }
    let Some(target) = rows.iter().find(|row| row.id == target_id) else {
        return Ok(RoleChange::TargetNotFound);
    };
    if (new_role == Role::Admin || target.role == Role::Admin) && caller.role != Role::Admin {
        return Ok(RoleChange::AdminOnly);
    }
    if target.role == new_role {
        return Ok(RoleChange::Unchanged);
    }
    sqlx::query!(
        "update users set role = $1, updated_at = now() where id = $2",
        new_role as Role,
        target_id
    )
    .execute(&mut *tx)
    .await?;
    // The caller is a locked ADMIN whenever an ADMIN is demoted, so one
    // remains by construction; checked anyway, as the rule it guards is the
    // one that cannot be repaired over the API once broken.
    if target.role == Role::Admin {
        let admin_left =
            sqlx::query_scalar!(r#"select exists(select 1 from users where role = 'ADMIN') as "exists!""#)
                .fetch_one(&mut *tx)
                .await?;
        if !admin_left {
            return Ok(RoleChange::LastAdmin);
        }
    }
    let revoked = session::revoke_all(&mut tx, target_id).await?;
    tx.commit().await?;
    tracing::info!(from = %target.role, to = %new_role, revoked_sessions = revoked, "role changed");
    Ok(RoleChange::Changed {
        email: target.email.clone(),
        from: target.role,
    })
}
