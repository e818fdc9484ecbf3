//! The `resource_status` table (migrations/0004): where manifests mode keeps
//! the status a cluster would hold on each object.

use std::collections::HashMap;

use sqlx::PgPool;

use super::documents::ObjectKey;
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
                _ => return None,
            };
            Some(((kind, row.namespace, row.name), row.status))
        })
        .collect())
}

/// Stores one object's status (no write when it is unchanged).
pub async fn store(db: &PgPool, key: &ObjectKey, status: &serde_json::Value) -> Result<()> {
    let (kind, namespace, name) = key;
    sqlx::query!(
        "insert into resource_status (kind, namespace, name, status) values ($1, $2, $3, $4)
         on conflict (kind, namespace, name) do update set status = excluded.status, updated_at = now()
         where resource_status.status is distinct from excluded.status",
        kind.as_str(),
        namespace,
        name,
        status,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets a deleted object's status.
pub async fn remove(db: &PgPool, key: &ObjectKey) -> Result<()> {
    let (kind, namespace, name) = key;
    sqlx::query!(
        "delete from resource_status where kind = $1 and namespace = $2 and name = $3",
        kind.as_str(),
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}
