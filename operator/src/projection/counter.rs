//! The `counters` half of the projection (migration 0037): upsert under the
//! Event's row (nothing when the Event is missing, or when the counter's
//! values belong to another Event or aggregation), soft delete.

use liveops_domain::crd::CounterSpec;
use sqlx::PgPool;

use super::{Kind, definition_id};
use crate::error::Result;

/// One Counter as it should stand in `counters`.
#[derive(Clone, Copy, Debug)]
pub struct CounterRow<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub spec: &'a CounterSpec,
    pub generation: i64,
}

/// What projecting a Counter found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CounterProjection {
    /// The row is live and holds the spec.
    Projected,
    /// `eventRef` names no live Event in the namespace: nothing was written.
    EventNotFound,
    /// The counter's row (live or soft-deleted: a re-created object) counts
    /// under `event` with `aggregation`, and the spec asks for another
    /// event or aggregation: nothing was written, since the values already
    /// counted would then mean something else (CounterSpec's immutable fields).
    LedgerMismatch { event: String, aggregation: String },
}

/// Inserts or updates the counter row of `namespace/name` under its Event's
/// row, keeping the row's id; writes nothing when the Event has no live row
/// or the row counts under another Event or aggregation.
pub async fn upsert_counter(db: &PgPool, row: CounterRow<'_>) -> Result<CounterProjection> {
    let spec = row.spec;
    let found = sqlx::query!(
        r#"select (select id from events
                   where namespace = $1 and name = $3 and deleted_at is null) as event_id,
                  (select e.name from counters c join events e on e.id = c.event_id
                   where c.namespace = $1 and c.name = $2) as ledger_event,
                  (select c.aggregation::text from counters c
                   where c.namespace = $1 and c.name = $2) as ledger_aggregation"#,
        row.namespace,
        row.name,
        spec.event_ref.name,
    )
    .fetch_one(db)
    .await?;
    if let (Some(event), Some(aggregation)) = (found.ledger_event, found.ledger_aggregation)
        && (event != spec.event_ref.name || aggregation != spec.aggregation.as_str())
    {
        return Ok(CounterProjection::LedgerMismatch { event, aggregation });
    }
    let Some(event_id) = found.event_id else {
        return Ok(CounterProjection::EventNotFound);
    };
    // The conflict update only applies under the same event and
    // aggregation, so a concurrent writer cannot move the values either.
    sqlx::query!(
        "insert into counters (id, namespace, name, event_id, display_name, description, aggregation,
                               min_amount, max_amount, generation)
         values ($1, $2, $3, $4, $5, $6, $7::text::counter_aggregation, $8, $9, $10)
         on conflict (namespace, name) do update set
             display_name = excluded.display_name, description = excluded.description,
             min_amount = excluded.min_amount, max_amount = excluded.max_amount,
             generation = excluded.generation, deleted_at = null, updated_at = now()
         where counters.event_id = excluded.event_id and counters.aggregation = excluded.aggregation
           and (counters.display_name, counters.description, counters.min_amount, counters.max_amount,
                counters.generation, counters.deleted_at)
               is distinct from
               (excluded.display_name, excluded.description, excluded.min_amount, excluded.max_amount,
                excluded.generation, null::timestamptz)",
        definition_id(Kind::Counter, row.namespace, row.name),
        row.namespace,
        row.name,
        event_id,
        spec.display_name,
        spec.description,
        spec.aggregation.as_str(),
        spec.min_amount,
        spec.max_amount,
        row.generation,
    )
    .execute(db)
    .await?;
    Ok(CounterProjection::Projected)
}

/// Soft-deletes a counter row: no more signals are counted; its values stay,
/// and re-creating the Counter (same event and aggregation) revives the row.
pub async fn soft_delete_counter(db: &PgPool, namespace: &str, name: &str) -> Result<()> {
    sqlx::query!(
        "update counters set deleted_at = now(), updated_at = now()
         where namespace = $1 and name = $2 and deleted_at is null",
        namespace,
        name,
    )
    .execute(db)
    .await?;
    Ok(())
}
