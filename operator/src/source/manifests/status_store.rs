//! The `resource_status` table (migrations/0004): where manifests mode keeps
//! the status a cluster would hold on each object.

use std::collections::HashMap;

use sqlx::PgPool;

use super::object_key::ObjectKey;
use crate::{error::Result, projection::Kind};

/// Every stored status, keyed by object, to resume with after a restart.
pub async fn load_all(db: &PgPool) -> Result<HashMap<ObjectKey, serde_json::Value>> {
    let rows = sqlx::query!("select kind, namespace, name, status from resource_status")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind = match row.kind.as_str() {
                "Event" => Kind::Event,
                "Reward" => Kind::Reward,
                "WebhookEndpoint" => Kind::WebhookEndpoint,
                "Counter" => Kind::Counter,
                "IngestClient" => Kind::IngestClient,
                _ => return None,
            };
            Some((ObjectKey::new(kind, row.namespace, row.name), row.status))
        })
        .collect())
}

/// Forgets a deleted object's status.
pub async fn remove(db: &PgPool, key: &ObjectKey) -> Result<()> {
    sqlx::query!(
        "delete from resource_status where kind = $1 and namespace = $2 and name = $3",
        key.kind.as_str(),
        key.namespace,
        key.name,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stores many statuses (JSON text) with one statement (no write for
/// unchanged ones). Text rather than `serde_json::Value`: a batch's worth
/// of value trees is most of a load's transient memory.
pub async fn store_many(db: &PgPool, statuses: &[(ObjectKey, String)]) -> Result<()> {
    if statuses.is_empty() {
        return Ok(());
    }
    let mut kinds = Vec::with_capacity(statuses.len());
    let mut namespaces = Vec::with_capacity(statuses.len());
    let mut names = Vec::with_capacity(statuses.len());
    let mut values = Vec::with_capacity(statuses.len());
    for (key, status) in statuses {
        kinds.push(key.kind.as_str().to_owned());
        namespaces.push(key.namespace.clone());
        names.push(key.name.clone());
        values.push(status.clone());
    }
    sqlx::query!(
        "insert into resource_status (kind, namespace, name, status)
         select kind, namespace, name, status::jsonb
         from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as t(kind, namespace, name, status)
         on conflict (kind, namespace, name) do update set status = excluded.status, updated_at = now()
         where resource_status.status is distinct from excluded.status",
        &kinds,
        &namespaces,
        &names,
        &values,
    )
    .execute(db)
    .await?;
    Ok(())
}
