//! The `ingest_clients` half of the projection (migration 0037): the
//! accepted secrets as 32-byte SHA-256 digests, the counters the client may
//! feed, its rate and `suspended`; soft delete.

use liveops_domain::crd::{IngestClientSpec, ingest_client::secret_digest};
use sqlx::PgPool;

use super::{Kind, definition_id};
use crate::error::Result;

/// One IngestClient as it should stand in `ingest_clients`.
#[derive(Clone, Copy, Debug)]
pub struct IngestClientRow<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a IngestClientSpec,
    pub generation: i64,
}

/// Inserts or updates the row of `namespace/name` (un-deleting it), touching
/// nothing when it already matches. The spec must have passed
/// `ingest_client_spec_problems`: an entry that is not a digest is skipped.
pub async fn upsert_ingest_client(db: &PgPool, row: IngestClientRow<'_>) -> Result<()> {
    let spec = row.spec;
    let hashes: Vec<Vec<u8>> = spec
        .secret_hashes
        .iter()
        .filter_map(|entry| secret_digest(entry))
        .map(Vec::from)
        .collect();
    sqlx::query!(
        "insert into ingest_clients (id, namespace, name, secret_hashes, counters, signals_per_minute,
                                     suspended, generation)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (namespace, name) do update set
             secret_hashes = excluded.secret_hashes, counters = excluded.counters,
             signals_per_minute = excluded.signals_per_minute, suspended = excluded.suspended,
             generation = excluded.generation, deleted_at = null, updated_at = now()
         where (ingest_clients.secret_hashes, ingest_clients.counters, ingest_clients.signals_per_minute,
                ingest_clients.suspended, ingest_clients.generation, ingest_clients.deleted_at)
               is distinct from
               (excluded.secret_hashes, excluded.counters, excluded.signals_per_minute,
                excluded.suspended, excluded.generation, null::timestamptz)",
        definition_id(Kind::IngestClient, row.namespace, row.name),
        row.namespace,
        row.name,
        &hashes,
        &spec.counters,
        spec.signals_per_minute,
        spec.suspend,
        row.generation,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stops an existing live row whose new spec is invalid: suspended, so no
/// token or signal of the client passes until the spec is fixed (the old
/// secrets may be the reason for the edit). Nothing without a live row.
pub async fn suspend_ingest_client(db: &PgPool, namespace: &str, name: &str) -> Result<()> {
    sqlx::query!(
        "update ingest_clients set suspended = true, updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null and not suspended",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Soft-deletes a client's row: its tokens and signals stop passing;
/// re-creating the resource revives the row.
pub async fn soft_delete_ingest_client(db: &PgPool, namespace: &str, name: &str) -> Result<()> {
    sqlx::query!(
        "update ingest_clients set deleted_at = now(), updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}
