//! Login limits strangers cannot turn against the owner (DESIGN.md,
//! "Accounts"; OWASP Authentication Cheat Sheet, "Login Throttling" and
//! "Account Lockout").
//!
//! Failures are counted, not attempts, in one-minute windows of the shared
//! `rate_limit_counters` table, with `L` = RATE_LIMIT_LOGIN_PER_MINUTE:
//! * per (client address, account): `L` failures, then 429 for that pair
//!   only: guessing one account from one address;
//! * per client address: `3 * L` failures over all accounts, then 429 for
//!   that address: spraying many accounts from one address (a NAT'd office
//!   still gets room for its typos);
//! * per account, from every address: never a refusal. Past `L` failures
//!   each attempt on the account waits a little longer before its password
//!   is checked (250 ms more per failure, at most 2 s): distributed guessing
//!   slows, while the owner, from an address that has not failed, still
//!   gets in with the right password.
//!
//! Each attempt is counted up front (so a burst of parallel guesses cannot
//! slip past the limit) and taken back when the password turns out right.
//! Addresses are the client address buckets (IPv6 by /64).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::rate_limit::RateLimitError;

/// The per-address limit is this many times the per-pair one.
pub const ADDRESS_FACTOR: u32 = 3;
/// Extra wait per account-wide failure past the limit.
const DELAY_STEP: Duration = Duration::from_millis(250);
/// The longest extra wait.
const MAX_DELAY: Duration = Duration::from_secs(2);

/// An attempt let through: it counts as a failure unless [`Attempt::succeeded`].
#[derive(Debug)]
#[must_use = "a successful attempt must be taken back with `succeeded`"]
pub struct Attempt {
    counted: Option<(DateTime<Utc>, Vec<String>)>,
    /// How long to wait before checking the password.
    pub delay: Duration,
}

impl Attempt {
    /// Takes the attempt back out of every bucket: the password was right.
    pub async fn succeeded(self, db: &PgPool) {
        let Some((window_start, buckets)) = self.counted else {
            return;
        };
        let released = sqlx::query!(
            "update rate_limit_counters set hits = greatest(hits - 1, 0)
             where bucket = any($1) and window_start = $2",
            &buckets,
            window_start,
        )
        .execute(db)
        .await;
        if let Err(error) = released {
            tracing::warn!(%error, "could not take a successful login out of the failure counts");
        }
    }
}

/// The bucket names of one attempt: `address` is the client's bucket (e.g.
/// `login:ip:192.0.2.1`), `account` the account's (`login:email:...`).
fn buckets(address: &str, account: &str) -> [String; 3] {
    [
        format!("{address}|{account}"),
        address.to_owned(),
        account.to_owned(),
    ]
}

/// Counts an attempt on `account` from `address` against the limits, or
/// refuses it (the refused attempt is not counted). `per_minute == 0`
/// turns the limits off.
pub async fn admit(
    db: &PgPool,
    per_minute: u32,
    address: &str,
    account: &str,
) -> Result<Attempt, RateLimitError> {
    if per_minute == 0 {
        return Ok(Attempt {
            counted: None,
            delay: Duration::ZERO,
        });
    }
    let buckets = buckets(address, account);
    let counted = sqlx::query!(
        r#"with bumped as (
               insert into rate_limit_counters as counter (bucket, window_start, hits)
               select bucket, date_trunc('minute', now()), 1 from unnest($1::text[]) as bucket
               on conflict (bucket, window_start) do update set hits = counter.hits + 1
               returning counter.bucket, counter.hits, counter.window_start
           )
           select bucket as "bucket!", hits as "hits!", window_start as "window_start!",
                  ceil(extract(epoch from window_start + interval '1 minute' - now()))::bigint as "seconds_left!"
           from bumped"#,
        &buckets[..],
    )
    .fetch_all(db)
    .await?;
    let hits = |bucket: &str| {
        counted
            .iter()
            .find(|row| row.bucket == bucket)
            .map_or(0, |row| i64::from(row.hits))
    };
    let limit = i64::from(per_minute);
    let (pair, by_address, by_account) = (hits(&buckets[0]), hits(&buckets[1]), hits(&buckets[2]));
    let window_start = counted.first().map(|row| row.window_start);
    let attempt = Attempt {
        counted: window_start.map(|start| (start, buckets.to_vec())),
        delay: account_delay(by_account - 1, limit),
    };
    if pair > limit || by_address > limit * i64::from(ADDRESS_FACTOR) {
        let seconds_left = counted.first().map_or(60, |row| row.seconds_left.max(1));
        // A refused attempt checks no password: it is not a failure.
        attempt.succeeded(db).await;
        tracing::info!(pair, by_address, "login refused by the failure limits");
        return Err(RateLimitError::Limited {
            retry_after_seconds: u64::try_from(seconds_left).unwrap_or(60),
        });
    }
    Ok(attempt)
}

/// The wait before checking a password when the account has had `failures`
/// failures (from every address) this minute.
fn account_delay(failures: i64, limit: i64) -> Duration {
    let over = u32::try_from(failures - limit + 1).unwrap_or(0);
    (DELAY_STEP * over).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{account_delay, buckets};

    #[test]
    fn an_attempt_counts_in_the_pair_the_address_and_the_account() {
        assert_eq!(
            buckets("login:ip:192.0.2.1", "login:email:a@b.co"),
            [
                "login:ip:192.0.2.1|login:email:a@b.co".to_owned(),
                "login:ip:192.0.2.1".to_owned(),
                "login:email:a@b.co".to_owned(),
            ]
        );
    }

    #[test]
    fn the_account_delay_grows_past_the_limit_and_is_capped() {
        assert_eq!(account_delay(0, 10), Duration::ZERO);
        assert_eq!(account_delay(9, 10), Duration::ZERO);
        assert_eq!(account_delay(10, 10), Duration::from_millis(250));
        assert_eq!(account_delay(13, 10), Duration::from_secs(1));
        assert_eq!(account_delay(1000, 10), Duration::from_secs(2));
    }
}
