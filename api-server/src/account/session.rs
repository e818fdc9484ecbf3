//! Refresh-token sessions: one family per login, rotation on every refresh,
//! and reuse detection that revokes the whole family (DESIGN.md, "REST API":
//! reuse of a spent refresh token revokes its whole family).
//!
//! Tokens are 256 random bits, handed out once; only their SHA-256 is stored.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::opaque_token::{generate as new_token, hash as token_hash};
use crate::role::Role;

/// A freshly issued refresh token (the only time its text exists).
#[derive(Debug, Clone)]
pub struct IssuedRefreshToken {
    /// The opaque token to give the client.
    pub token: String,
    /// Its lifetime in seconds.
    pub ttl_seconds: u64,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// A new token replaced the presented one.
    Rotated {
        /// Owner of the family.
        user_id: Uuid,
        /// The owner's current role (re-read, so role changes take effect).
        role: Role,
        /// The replacement.
        refresh: IssuedRefreshToken,
    },
    /// No such token.
    Unknown,
    /// The family was revoked (logout or earlier reuse).
    Revoked,
    /// The token is past its lifetime.
    Expired,
    /// An already rotated token was presented after the grace period: the
    /// family is now revoked.
    ReuseDetected,
}

fn ttl_as_i64(ttl_seconds: u64) -> i64 {
    i64::try_from(ttl_seconds).unwrap_or(i64::MAX / 2)
}

async fn insert_token(
    conn: &mut PgConnection,
    family_id: Uuid,
    ttl_seconds: u64,
) -> Result<IssuedRefreshToken, sqlx::Error> {
    let token = new_token();
    sqlx::query!(
        "insert into refresh_tokens (token_hash, family_id, expires_at)
         values ($1, $2, now() + make_interval(secs => $3))",
        token_hash(&token),
        family_id,
        ttl_as_i64(ttl_seconds) as f64,
    )
    .execute(&mut *conn)
    .await?;
    Ok(IssuedRefreshToken { token, ttl_seconds })
}

/// Starts a family for a login and issues its first token.
pub async fn start(
    conn: &mut PgConnection,
    user_id: Uuid,
    ttl_seconds: u64,
) -> Result<IssuedRefreshToken, sqlx::Error> {
    let family_id = sqlx::query_scalar!(
        "insert into refresh_token_families (user_id) values ($1) returning id",
        user_id
    )
    .fetch_one(&mut *conn)
    .await?;
    insert_token(conn, family_id, ttl_seconds).await
}

/// Exchanges `presented` for a new token, or says why not. A rotated token
/// presented within `grace_seconds` of its rotation, while it is the
/// newest rotated one (the parent of the live token: two tabs refreshing at
/// once), gets a new token instead of revoking the family.
pub async fn rotate(
    db: &PgPool,
    presented: &str,
    ttl_seconds: u64,
    grace_seconds: u64,
) -> Result<Rotation, sqlx::Error> {
    let mut tx = db.begin().await?;
    // Lock the family first, then read the token in a second statement:
    // under READ COMMITTED that statement sees a rotation committed by a
    // concurrent refresh we waited for, where one statement would not.
    let hash = token_hash(presented);
    let locked = sqlx::query_scalar!(
        "select f.id from refresh_token_families f
         join refresh_tokens t on t.family_id = f.id
         where t.token_hash = $1
         for update of f",
        hash,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if locked.is_none() {
        return Ok(Rotation::Unknown);
    }
    // clock_timestamp(), not now(): now() is when this transaction began,
    // possibly before the lock wait, which would stretch the grace period.
    let found = sqlx::query!(
        r#"select t.family_id,
                  f.user_id,
                  u.role as "role: Role",
                  f.revoked_at is not null as "revoked!",
                  t.expires_at <= clock_timestamp() as "expired!",
                  t.rotated_at is not null as "rotated!",
                  coalesce($2 > 0 and t.rotated_at > clock_timestamp() - make_interval(secs => $2), false)
                      as "within_grace!",
                  not exists (
                      select 1 from refresh_tokens newer
                      where newer.family_id = t.family_id and newer.rotated_at > t.rotated_at
                  ) as "newest_rotated!"
           from refresh_tokens t
           join refresh_token_families f on f.id = t.family_id
           join users u on u.id = f.user_id
           where t.token_hash = $1"#,
        hash,
        ttl_as_i64(grace_seconds) as f64,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(found) = found else {
        return Ok(Rotation::Unknown);
    };
    if found.revoked {
        return Ok(Rotation::Revoked);
    }
    if found.expired {
        return Ok(Rotation::Expired);
    }
    if found.rotated && !(found.within_grace && found.newest_rotated) {
        sqlx::query!(
            "update refresh_token_families set revoked_at = now() where id = $1",
            found.family_id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::warn!(user_id = %found.user_id, family_id = %found.family_id, "refresh token reuse: family revoked");
        return Ok(Rotation::ReuseDetected);
    }
    // Retire every live token of the family (the presented one, or in the
    // grace case its successor), so exactly one stays live.
    sqlx::query!(
        "update refresh_tokens set rotated_at = now() where family_id = $1 and rotated_at is null",
        found.family_id,
    )
    .execute(&mut *tx)
    .await?;
    let refresh = insert_token(&mut tx, found.family_id, ttl_seconds).await?;
    tx.commit().await?;
    Ok(Rotation::Rotated {
        user_id: found.user_id,
        role: found.role,
        refresh,
    })
}

/// Revokes the family of `presented`; `false` when no such token exists.
pub async fn revoke(db: &PgPool, presented: &str) -> Result<bool, sqlx::Error> {
    let revoked = sqlx::query_scalar!(
        "update refresh_token_families set revoked_at = coalesce(revoked_at, now())
         where id = (select family_id from refresh_tokens where token_hash = $1)
         returning id",
        token_hash(presented),
    )
    .fetch_optional(db)
    .await?;
    Ok(revoked.is_some())
}

/// Revokes every session of `user_id` (password reset or change, role
/// change): each of its refresh tokens stops working at once. Returns how
/// many families were live.
pub async fn revoke_all(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let revoked = sqlx::query!(
        "update refresh_token_families set revoked_at = now() where user_id = $1 and revoked_at is null",
        user_id,
    )
    .execute(&mut *conn)
    .await?;
    Ok(revoked.rows_affected())
}
