//! Many Rewards into `rewards` with one statement: the batched form of
//! [`super::upsert_reward`], with the same outcomes per row (written under
//! its Event, Event missing, ledger belongs to another Event).

use std::collections::HashMap;

use liveops_domain::crd::Payload;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Kind, RewardProjection, RewardRow, definition_id, requires_value, upsert_reward};
use crate::error::Result;

/// The statement's parameters, one array per column.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    namespace: Vec<String>,
    name: Vec<String>,
    event: Vec<String>,
    display_name: Vec<String>,
    description: Vec<String>,
    quantity: Vec<Option<i32>>,
    per_user_limit: Vec<i32>,
    payload: Vec<Option<serde_json::Value>>,
    generation: Vec<i64>,
    requires: Vec<Option<serde_json::Value>>,
}

impl Columns {
    fn push(&mut self, row: &RewardRow<'_>) {
        let spec = row.spec;
        self.id.push(definition_id(Kind::Reward, row.namespace, row.name));
        self.namespace.push(row.namespace.to_owned());
        self.name.push(row.name.to_owned());
        self.event.push(spec.event_ref.name.clone());
        self.display_name.push(spec.display_name.clone());
        self.description.push(spec.description.clone());
        self.quantity.push(spec.quantity);
        self.per_user_limit.push(spec.per_user_limit);
        self.payload.push(spec.payload.as_ref().map(Payload::to_value));
        self.generation.push(row.generation);
        self.requires.push(requires_value(spec));
    }
}

/// Upserts every row (keys must be distinct) under its Event's live row and
/// returns what each found, by `(namespace, name)`. The conflict update only
/// applies under the same event, so no row ever changes event here.
pub async fn upsert_rewards(
    db: &PgPool,
    rows: &[RewardRow<'_>],
) -> Result<HashMap<(String, String), RewardProjection>> {
    let mut columns = Columns::default();
    rows.iter().for_each(|row| columns.push(row));
    let found = sqlx::query!(
        "with input as (
             select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::int4[], $8::int4[], $9::jsonb[], $10::int8[],
                                  $11::jsonb[])
                 as t(id, namespace, name, event_name, display_name, description, quantity,
                      per_user_limit, payload, generation, requires)
         ),
         resolved as (
             select i.*, e.id as event_id, ledger.name as ledger_event
             from input i
             left join events e
                 on e.namespace = i.namespace and e.name = i.event_name and e.deleted_at is null
             left join rewards r on r.namespace = i.namespace and r.name = i.name
             left join events ledger on ledger.id = r.event_id
         ),
         upserted as (
             insert into rewards (id, event_id, namespace, name, display_name, description,
                                  quantity, per_user_limit, payload, generation, requires)
             select id, event_id, namespace, name, display_name, description, quantity,
                    per_user_limit, payload, generation, requires
             from resolved
             where event_id is not null and (ledger_event is null or ledger_event = event_name)
             on conflict (namespace, name) do update set
                 display_name = excluded.display_name, description = excluded.description,
                 quantity = excluded.quantity, per_user_limit = excluded.per_user_limit,
                 payload = excluded.payload, generation = excluded.generation,
                 requires = excluded.requires, deleted_at = null, updated_at = now()
             where rewards.event_id = excluded.event_id
               and (rewards.display_name, rewards.description, rewards.quantity,
                    rewards.per_user_limit, rewards.payload, rewards.generation, rewards.requires,
                    rewards.deleted_at)
                   is distinct from
                   (excluded.display_name, excluded.description, excluded.quantity,
                    excluded.per_user_limit, excluded.payload, excluded.generation,
                    excluded.requires, null::timestamptz)
             returning namespace, name, event_id, claimed, quantity
         )
         select s.namespace as \"namespace!\", s.name as \"name!\", s.event_name as \"event_name!\",
                s.event_id, s.ledger_event,
                coalesce(u.event_id, r.event_id) as stored_event_id,
                coalesce(u.claimed, r.claimed) as claimed,
                case when u.name is not null then u.quantity else r.quantity end as quantity
         from resolved s
         left join upserted u on u.namespace = s.namespace and u.name = s.name
         left join rewards r on r.namespace = s.namespace and r.name = s.name",
        &columns.id,
        &columns.namespace,
        &columns.name,
        &columns.event,
        &columns.display_name,
        &columns.description,
        &columns.quantity as &[Option<i32>],
        &columns.per_user_limit,
        &columns.payload as &[Option<serde_json::Value>],
        &columns.generation,
        &columns.requires as &[Option<serde_json::Value>],
    )
    .fetch_all(db)
    .await?;
    let mut outcomes = HashMap::with_capacity(found.len());
    for row in found {
        let outcome = match (row.ledger_event, row.event_id) {
            (Some(event), _) if event != row.event_name => RewardProjection::EventRefChanged { event },
            (_, None) => RewardProjection::EventNotFound,
            (_, Some(event_id)) if row.stored_event_id == Some(event_id) => RewardProjection::Projected {
                claimed: row.claimed.map_or(0, i64::from),
                quantity: row.quantity.map(i64::from),
            },
            // Another writer created the row under another event in
            // between: the one-row path reads which event that is.
            _ => {
                let Some(row_in) = rows
                    .iter()
                    .find(|r| r.namespace == row.namespace && r.name == row.name)
                else {
                    continue;
                };
                upsert_reward(db, *row_in).await?
            }
        };
        outcomes.insert((row.namespace, row.name), outcome);
    }
    Ok(outcomes)
}
