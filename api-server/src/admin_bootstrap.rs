//! The first ADMIN: from `ADMIN_EMAIL` + `ADMIN_PASSWORD` at start-up or
//! `api-server create-admin`, never from signup (DESIGN.md, "Security
//! baseline"). Idempotent.

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    account::{email::Email, password},
    invite_code,
    role::Role,
};

/// What `ensure_admin` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    /// A new ADMIN account was created.
    Created(Uuid),
    /// An ADMIN with this email already existed; nothing changed.
    AlreadyAdmin(Uuid),
}

/// Why no ADMIN could be ensured.
#[derive(Debug, thiserror::Error)]
pub enum AdminBootstrapError {
    /// The email does not parse.
    #[error("admin email: {0}")]
    InvalidEmail(String),
    /// The password breaks the length rule.
    #[error("admin password: {0}")]
    InvalidPassword(#[from] password::PasswordLengthError),
    /// The email belongs to a non-ADMIN account. Promoting it silently would
    /// hand ADMIN to whoever signed up with that address first.
    #[error(
        "{email} already has an account with role {role}; change its role with PATCH /auth/users/{{userId}}/role instead"
    )]
    EmailHeldByNonAdmin {
        /// The email.
        email: String,
        /// Its current role.
        role: Role,
    },
    /// Database or hashing failure.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AdminBootstrapError {
    fn from(error: sqlx::Error) -> Self {
        Self::Other(error.into())
    }
}

/// Placeholder birth date for bootstrap admins: the column is required, and
/// an operator account has no meaningful one.
const ADMIN_BIRTH_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(date) => date,
    None => chrono::NaiveDate::MIN,
};

/// Creates an ADMIN with this email and password unless one exists.
pub async fn ensure_admin(
    db: &PgPool,
    email: &str,
    password_text: &str,
) -> Result<AdminOutcome, AdminBootstrapError> {
    let email = Email::parse(email).map_err(|e| AdminBootstrapError::InvalidEmail(e.to_string()))?;
    password::check_length(password_text)?;
    if let Some(outcome) = existing(db, &email).await? {
        return outcome;
    }
    let hash = password::hash(password_text.to_owned()).await?;
    for _ in 0..5 {
        let inserted = sqlx::query_scalar!(
            r#"insert into users (email, password_hash, role, birth_date, invite_code)
               values ($1, $2, 'ADMIN', $3, $4)
               on conflict do nothing
               returning id"#,
            email.as_ref(),
            hash,
            ADMIN_BIRTH_DATE,
            invite_code::generate(),
        )
        .fetch_optional(db)
        .await?;
        if let Some(id) = inserted {
            return Ok(AdminOutcome::Created(id));
        }
        // A conflict: another replica created the account at the same
        // moment, or (rarely) the invite code collided; look again.
        if let Some(outcome) = existing(db, &email).await? {
            return outcome;
        }
    }
    Err(anyhow::anyhow!("could not create the admin account after 5 attempts").into())
}

async fn existing(
    db: &PgPool,
    email: &Email,
) -> Result<Option<Result<AdminOutcome, AdminBootstrapError>>, AdminBootstrapError> {
    let found = sqlx::query!(
        r#"select id, role as "role: Role" from users where lower(email) = $1"#,
        email.as_ref()
    )
    .fetch_optional(db)
    .await?;
    Ok(found.map(|row| match row.role {
        Role::Admin => Ok(AdminOutcome::AlreadyAdmin(row.id)),
        role => Err(AdminBootstrapError::EmailHeldByNonAdmin {
            email: email.as_ref().to_owned(),
            role,
        }),
    }))
}
