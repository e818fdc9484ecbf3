//! Fixed-window rate limits kept in Postgres (`rate_limit_counters`), so
//! every replica counts against the same budget (DESIGN.md, "Security
//! baseline": login and signup are rate-limited).

use rand::Rng;
use sqlx::PgPool;

/// Why an attempt was not let through.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// A bucket is over its limit for the current window.
    #[error("too many requests; retry in {retry_after_seconds} s")]
    Limited {
        /// Seconds until the window resets.
        retry_after_seconds: u64,
    },
    /// The counters could not be read or written.
    #[error("rate-limit counters: {0}")]
    Database(#[from] sqlx::Error),
}

/// Checks and counts one attempt against every bucket in `buckets` for the
/// current minute. `limit_per_minute == 0` turns the limit off (load tests).
///
/// Refuses with [`RateLimitError::Limited`], carrying the seconds left in the
/// window, as soon as any bucket is over its limit.
pub async fn count_attempt(
    db: &PgPool,
    limit_per_minute: u32,
    buckets: &[String],
) -> Result<(), RateLimitError> {
    if limit_per_minute == 0 || buckets.is_empty() {
        return Ok(());
    }
    let window = sqlx::query!(
        r#"with bumped as (
               insert into rate_limit_counters as counter (bucket, window_start, hits)
               select bucket, date_trunc('minute', now()), 1 from unnest($1::text[]) as bucket
               on conflict (bucket, window_start) do update set hits = counter.hits + 1
               returning counter.hits
           )
           select
               (select max(hits) from bumped) as "hits!",
               ceil(extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now()))::bigint
                   as "seconds_left!""#,
        buckets,
    )
    .fetch_one(db)
    .await?;
    forget_old_windows(db).await;
    if i64::from(window.hits) > i64::from(limit_per_minute) {
        let retry_after_seconds = u64::try_from(window.seconds_left.max(1)).unwrap_or(60);
        return Err(RateLimitError::Limited { retry_after_seconds });
    }
    Ok(())
}

/// The bucket of `action` attempts for one email, as typed (trimmed,
/// lower-cased). Cut to the longest valid address so that a 60 KiB "email"
/// does not become a 60 KiB primary key.
pub fn email_bucket(action: &str, typed_email: &str) -> String {
    let email = typed_email.trim().to_lowercase();
    let cut = email
        .char_indices()
        .nth(254)
        .map_or(email.len(), |(index, _)| index);
    format!("{action}:email:{}", &email[..cut])
}

/// Deletes finished windows on about one call in a hundred, which keeps the
/// table small without a background job.
async fn forget_old_windows(db: &PgPool) {
    if rand::rng().random_range(0..100) != 0 {
        return;
    }
    let deleted =
        sqlx::query!("delete from rate_limit_counters where window_start < now() - interval '2 minutes'")
            .execute(db)
            .await;
    if let Err(error) = deleted {
        tracing::warn!(%error, "could not delete old rate-limit windows");
    }
}

#[cfg(test)]
mod tests {
    use super::email_bucket;

    #[test]
    fn email_buckets_are_normalised_and_bounded() {
        assert_eq!(email_bucket("login", " A@B.co "), "login:email:a@b.co");
        assert_eq!(
            email_bucket("login", &"가".repeat(1000)).chars().count(),
            "login:email:".len() + 254
        );
    }
}
