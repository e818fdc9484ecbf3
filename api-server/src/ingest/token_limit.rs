//! Failed `POST /oauth/token` attempts, limited per client address with the
//! crate's rate limiter (`rate_limit_counters`): each attempt is counted up
//! front, so a parallel burst of guesses cannot slip past the limit, and
//! taken back when the credentials were right, so only failures count.

use sqlx::PgPool;

use crate::rate_limit::{self, RateLimitError};

/// An attempt let through; it stays counted as a failure unless
/// [`Attempt::succeeded`] is called.
#[derive(Debug)]
#[must_use = "a successful attempt must be taken back with `succeeded`"]
pub struct Attempt {
    bucket: Option<String>,
}

/// Counts an attempt from `address_bucket`, or refuses it once the address
/// has `per_minute` failures this minute; `per_minute == 0` turns it off.
pub async fn admit(db: &PgPool, per_minute: u32, address_bucket: String) -> Result<Attempt, RateLimitError> {
    if per_minute == 0 {
        return Ok(Attempt { bucket: None });
    }
    rate_limit::count_attempt(db, per_minute, std::slice::from_ref(&address_bucket)).await?;
    Ok(Attempt {
        bucket: Some(address_bucket),
    })
}

impl Attempt {
    /// Takes the attempt back out of the count: the client authenticated.
    pub async fn succeeded(self, db: &PgPool) {
        let Some(bucket) = self.bucket else {
            return;
        };
        let released = sqlx::query!(
            "update rate_limit_counters set hits = greatest(hits - 1, 0)
             where bucket = $1 and window_start = date_trunc('minute', now())",
            bucket,
        )
        .execute(db)
        .await;
        if let Err(error) = released {
            tracing::warn!(%error, "could not take a successful token request out of the failure count");
        }
    }
}
