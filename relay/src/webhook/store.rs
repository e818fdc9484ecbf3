//! The webhook tables as the relay sees them (migration 0031): due
//! deliveries taken under a lease, each attempt's outcome written to the
//! delivery and to its endpoint's health columns in one statement, and
//! retention of finished deliveries.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

/// A delivery whose time has come, with what its endpoint says now.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// The outbox row it announces.
    pub outbox_id: i64,
    /// The receiving endpoint.
    pub endpoint_id: Uuid,
    /// The CloudEvents id, sent as `webhook-id` on every attempt.
    pub message_id: String,
    /// CloudEvents `type`.
    pub event_type: String,
    /// The whole CloudEvent (structured mode), the request body.
    pub payload: serde_json::Value,
    /// Attempts before this one.
    pub attempts: i32,
    /// The receiver.
    pub url: String,
    /// The signing secret (`whsec_<base64>`).
    pub secret: String,
    /// Whether private and cluster-internal targets are allowed.
    pub allow_private: bool,
    /// The endpoint is suspended: wait without trying.
    pub suspended: bool,
    /// The endpoint was deleted or disabled since the fan-out: why, if so.
    pub stopped_reason: Option<String>,
}

/// Takes up to `limit` due deliveries and hides them from other takers
/// for `lease` (`FOR UPDATE SKIP LOCKED`, so replicas never take the same
/// one; a relay that dies mid-request leaves its deliveries due again
/// when the lease ends).
pub async fn take_due(db: &PgPool, limit: i64, lease: Duration) -> sqlx::Result<Vec<DueDelivery>> {
    sqlx::query_as!(
        DueDelivery,
        r#"update webhook_deliveries d
           set next_attempt_at = now() + make_interval(secs => $2)
           from (select outbox_id, endpoint_id from webhook_deliveries
                 where delivered_at is null and gave_up_at is null and next_attempt_at <= now()
                 order by next_attempt_at
                 limit $1
                 for update skip locked) due,
                webhook_endpoints e
           where d.outbox_id = due.outbox_id and d.endpoint_id = due.endpoint_id and e.id = d.endpoint_id
           returning d.outbox_id, d.endpoint_id, d.message_id, d.event_type, d.payload, d.attempts,
                     e.url, e.secret, e.allow_private, e.suspended,
                     case when e.deleted_at is not null then 'the endpoint was deleted'
                          else e.disabled_reason end as stopped_reason"#,
        limit,
        lease.as_secs_f64()
    )
    .fetch_all(db)
    .await
}

/// Identifies one delivery.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryKey {
    /// The outbox row.
    pub outbox_id: i64,
    /// The endpoint.
    pub endpoint_id: Uuid,
}

/// Records a 2xx answer: delivered, and the endpoint healthy again.
pub async fn record_delivered(db: &PgPool, key: DeliveryKey, status: i32) -> sqlx::Result<()> {
    sqlx::query!(
        "with delivered as (
             update webhook_deliveries
             set delivered_at = now(), attempts = attempts + 1, last_status = $3, last_error = null
             where outbox_id = $1 and endpoint_id = $2
             returning endpoint_id)
         update webhook_endpoints e
         set last_success_at = now(), last_status = $3, last_error = null, consecutive_failures = 0
         from delivered where e.id = delivered.endpoint_id",
        key.outbox_id,
        key.endpoint_id,
        status
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A failed attempt as recorded.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    /// The HTTP status, when an answer came.
    pub status: Option<i32>,
    /// What went wrong, for the delivery and the endpoint's `last_error`.
    pub error: &'a str,
    /// When to try again.
    pub retry_in: Duration,
    /// Attempts after which the delivery is given up (0: give up now).
    pub max_attempts: i32,
    /// Set as the endpoint's `disabled_reason` (a 410 Gone).
    pub disable: Option<&'a str>,
}

/// Records a failed attempt on the delivery and the endpoint's health;
/// returns whether the delivery was given up.
pub async fn record_failure(db: &PgPool, key: DeliveryKey, failure: &Failure<'_>) -> sqlx::Result<bool> {
    let gave_up = sqlx::query_scalar!(
        r#"with failed as (
               update webhook_deliveries
               set attempts = attempts + 1, last_status = $3, last_error = $4,
                   next_attempt_at = now() + make_interval(secs => $5),
                   gave_up_at = case when attempts + 1 >= $6 then now() end
               where outbox_id = $1 and endpoint_id = $2
               returning endpoint_id, gave_up_at is not null as gave_up),
           health as (
               update webhook_endpoints e
               set last_failure_at = now(), last_status = $3, last_error = $4,
                   consecutive_failures = consecutive_failures + 1,
                   disabled_reason = coalesce($7, e.disabled_reason)
               from failed where e.id = failed.endpoint_id)
           select gave_up as "gave_up!" from failed"#,
        key.outbox_id,
        key.endpoint_id,
        failure.status,
        failure.error,
        failure.retry_in.as_secs_f64(),
        failure.max_attempts,
        failure.disable
    )
    .fetch_optional(db)
    .await?;
    Ok(gave_up.unwrap_or(true))
}

/// Gives a delivery up without an attempt (its endpoint was deleted or
/// disabled after the fan-out); the endpoint's health is left as it is.
pub async fn give_up(db: &PgPool, key: DeliveryKey, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update webhook_deliveries set gave_up_at = now(), last_error = $3
         where outbox_id = $1 and endpoint_id = $2",
        key.outbox_id,
        key.endpoint_id,
        reason
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a delivery back for `after` without counting an attempt (its
/// endpoint is suspended: deliveries wait for it to resume).
pub async fn postpone(db: &PgPool, key: DeliveryKey, after: Duration) -> sqlx::Result<()> {
    sqlx::query!(
        "update webhook_deliveries set next_attempt_at = now() + make_interval(secs => $3)
         where outbox_id = $1 and endpoint_id = $2",
        key.outbox_id,
        key.endpoint_id,
        after.as_secs_f64()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes at most `limit` deliveries finished more than `retention` ago.
pub async fn delete_finished(db: &PgPool, retention: Duration, limit: i64) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "delete from webhook_deliveries where (outbox_id, endpoint_id) in (
             select outbox_id, endpoint_id from webhook_deliveries
             where coalesce(delivered_at, gave_up_at) < now() - make_interval(secs => $1)
             order by coalesce(delivered_at, gave_up_at)
             limit $2)",
        retention.as_secs_f64(),
        limit
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
