//! The `mail_outbox` queue: rows go in with the transaction that issues a
//! token, a worker leases due rows (`for update skip locked`, so replicas
//! never send one mail twice at once), and a row leaves when it is
//! delivered or given up on.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};

use super::OutgoingMail;

/// Delivery attempts before a mail is given up on: with the backoff below,
/// retries span about two hours of mail-server trouble.
pub const MAX_ATTEMPTS: i32 = 12;

/// A leased mail waiting to be sent.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    /// Row id.
    pub id: i64,
    /// The address it goes to.
    pub recipient: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// The rendered mail.
    pub mail: OutgoingMail,
}

/// Inserts `mail` for `recipient`, due at once.
pub async fn enqueue(conn: &mut PgConnection, recipient: &str, mail: &OutgoingMail) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into mail_outbox (recipient, subject, text_body, html_body) values ($1, $2, $3, $4)",
        recipient,
        mail.subject,
        mail.text,
        mail.html,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Leases up to `limit` due mails for `lease`: each counts an attempt and
/// is not due again until the lease ends, so a replica that dies mid-send
/// leaves its mails to another.
pub async fn take_due(db: &PgPool, limit: i64, lease: Duration) -> sqlx::Result<Vec<QueuedMail>> {
    let rows = sqlx::query!(
        "update mail_outbox
         set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         where id in (
             select id from mail_outbox where next_attempt_at <= now()
             order by next_attempt_at limit $1
             for update skip locked
         )
         returning id, recipient, subject, text_body, html_body, attempts",
        limit,
        lease.as_secs_f64(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| QueuedMail {
            id: row.id,
            recipient: row.recipient,
            attempts: row.attempts,
            mail: OutgoingMail {
                subject: row.subject,
                text: row.text_body,
                html: row.html_body,
            },
        })
        .collect())
}

/// Removes a delivered (or given-up) mail: the token in it must not
/// outlive its delivery in the database.
pub async fn remove(db: &PgPool, id: i64) -> sqlx::Result<()> {
    sqlx::query!("delete from mail_outbox where id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// Schedules the next attempt of a mail that failed its `attempts`-th.
pub async fn retry_later(db: &PgPool, id: i64, attempts: i32, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update mail_outbox set next_attempt_at = now() + make_interval(secs => $2), last_error = $3
         where id = $1",
        id,
        backoff(attempts).as_secs_f64(),
        error,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// 2 s after the first failure, doubling each time, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(11);
    Duration::from_secs(2u64 << doublings).min(Duration::from_secs(3600))
}

/// Seconds until the next mail falls due, if any is queued.
pub async fn seconds_until_next_due(db: &PgPool) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar!(
        r#"select extract(epoch from min(next_attempt_at) - now())::float8 as "seconds" from mail_outbox"#
    )
    .fetch_one(db)
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::backoff;

    #[test]
    fn backoff_doubles_from_two_seconds_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(12), Duration::from_secs(3600));
        assert_eq!(backoff(0), Duration::from_secs(2));
    }
}
