//! The `webhook_endpoints` half of the projection (migration 0031's
//! contract): the operator writes the definition columns, upserting on
//! `(namespace, name)`, and reads back the delivery-health columns the
//! relay owns, which it never writes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use liveops_domain::crd::WebhookEndpointSpec;
use sqlx::PgPool;

use crate::error::Result;

/// One WebhookEndpoint as it should stand in `webhook_endpoints`.
#[derive(Clone, Copy, Debug)]
pub struct WebhookRow<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a WebhookEndpointSpec,
    /// The signing secret read from the Secret `spec.secretRef` names.
    pub secret: &'a str,
    pub generation: i64,
}

/// What the relay recorded about deliveries to one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookHealth {
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub disabled_reason: Option<String>,
    /// The row's `suspended` as stored (spec.suspend, or the operator
    /// stopping deliveries while the secret is unusable).
    pub suspended: bool,
}

/// Inserts or updates the row of `namespace/name` (un-deleting it), touching
/// nothing when it already matches, and returns its health. A new
/// generation, or a re-created endpoint, clears `disabled_reason`, so an
/// edited resource is tried again after a 410.
pub async fn upsert_webhook_endpoint(db: &PgPool, row: WebhookRow<'_>) -> Result<WebhookHealth> {
    let event_types: Vec<String> = row
        .spec
        .event_types
        .iter()
        .map(|event_type| event_type.as_str().to_owned())
        .collect();
    let health = sqlx::query_as!(
        WebhookHealth,
        r#"with upserted as (
             insert into webhook_endpoints (namespace, name, url, event_types, secret, suspended,
                                            allow_private, generation)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (namespace, name) do update set
                 url = excluded.url, event_types = excluded.event_types, secret = excluded.secret,
                 suspended = excluded.suspended, allow_private = excluded.allow_private,
                 generation = excluded.generation, deleted_at = null, updated_at = now(),
                 disabled_reason = case
                     when webhook_endpoints.generation is distinct from excluded.generation
                       or webhook_endpoints.deleted_at is not null then null
                     else webhook_endpoints.disabled_reason end
             where (webhook_endpoints.url, webhook_endpoints.event_types, webhook_endpoints.secret,
                    webhook_endpoints.suspended, webhook_endpoints.allow_private,
                    webhook_endpoints.generation, webhook_endpoints.deleted_at)
                   is distinct from
                   (excluded.url, excluded.event_types, excluded.secret, excluded.suspended,
                    excluded.allow_private, excluded.generation, null::timestamptz)
             returning last_success_at, last_failure_at, last_status, last_error,
                       consecutive_failures, disabled_reason, suspended
         )
         select last_success_at, last_failure_at, last_status, last_error,
                consecutive_failures as "consecutive_failures!", disabled_reason,
                suspended as "suspended!"
         from upserted
         union all
         select last_success_at, last_failure_at, last_status, last_error,
                consecutive_failures, disabled_reason, suspended
         from webhook_endpoints
         where namespace = $1 and name = $2 and not exists (select 1 from upserted)"#,
        row.namespace,
        row.name,
        row.spec.url,
        &event_types,
        row.secret,
        row.spec.suspend,
        row.spec.allow_private,
        row.generation,
    )
    .fetch_one(db)
    .await?;
    Ok(health)
}

/// Stops deliveries to an existing live row whose spec or secret cannot be
/// used (missing Secret or key, malformed key, invalid spec): suspended,
/// and the old key material wiped, since deleting a Secret is how a key is
/// revoked. The generation stays the last projected one, so an edit made
/// meanwhile still clears `disabled_reason` once the endpoint is projected
/// again. Nothing is written when there is no live row. Returns the row's
/// health, if it has one.
pub async fn stop_webhook_endpoint(
    db: &PgPool,
    namespace: &str,
    name: &str,
) -> Result<Option<WebhookHealth>> {
    sqlx::query!(
        "update webhook_endpoints set suspended = true, secret = '', updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null
           and (suspended, secret) is distinct from (true, '')",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    webhook_health(db, namespace, name).await
}

/// The health of the live row of `namespace/name`, if there is one.
pub async fn webhook_health(db: &PgPool, namespace: &str, name: &str) -> Result<Option<WebhookHealth>> {
    let health = sqlx::query_as!(
        WebhookHealth,
        "select last_success_at, last_failure_at, last_status, last_error, consecutive_failures,
                disabled_reason, suspended
         from webhook_endpoints where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .fetch_optional(db)
    .await?;
    Ok(health)
}

/// The health of every live row (of `namespace` when given), by
/// `(namespace, name)`: what the status refresh compares between passes.
pub async fn all_webhook_health(
    db: &PgPool,
    namespace: Option<&str>,
) -> Result<HashMap<(String, String), WebhookHealth>> {
    let rows = sqlx::query!(
        "select namespace, name, last_success_at, last_failure_at, last_status, last_error,
                consecutive_failures, disabled_reason, suspended
         from webhook_endpoints
         where deleted_at is null and ($1::text is null or namespace = $1)",
        namespace,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let health = WebhookHealth {
                last_success_at: row.last_success_at,
                last_failure_at: row.last_failure_at,
                last_status: row.last_status,
                last_error: row.last_error,
                consecutive_failures: row.consecutive_failures,
                disabled_reason: row.disabled_reason,
                suspended: row.suspended,
            };
            ((row.namespace, row.name), health)
        })
        .collect())
}

/// Soft-deletes an endpoint's row: no new deliveries, pending ones dropped
/// by the relay; re-creating the resource revives the row.
pub async fn soft_delete_webhook_endpoint(db: &PgPool, namespace: &str, name: &str) -> Result<()> {
    sqlx::query!(
        "update webhook_endpoints set deleted_at = now(), updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}
