//! What game servers did, read back for the Counter and IngestClient
//! statuses: when the last signal arrived, how many arrived in the last
//! 60 s (`counter_signals`, by `received_at`, database clock), and for
//! counters the Rewards whose `requires` mention them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::error::Result;

/// Signals received for a counter or from a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalActivity {
    pub last_signal_at: Option<DateTime<Utc>>,
    /// Signals received in the last 60 seconds.
    pub signals_per_minute: i64,
}

/// A live counter's activity and the Rewards that require it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterActivity {
    pub signals: SignalActivity,
    /// Names of the live Rewards of the namespace whose `requires` has a
    /// `counter` leaf (at any depth of `allOf`/`anyOf`) naming this counter.
    pub rewards: Vec<String>,
}

/// Activity of every live counter row by `(namespace, name)`, of one
/// namespace and of one name when given. Both signal reads walk the
/// `(counter_id, received_at)` index.
pub async fn counter_activity(
    db: &PgPool,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<HashMap<(String, String), CounterActivity>> {
    let rows = sqlx::query!(
        r#"select c.namespace, c.name,
                  (select max(s.received_at) from counter_signals s where s.counter_id = c.id)
                      as last_signal_at,
                  (select count(*) from counter_signals s
                   where s.counter_id = c.id and s.received_at > now() - interval '60 seconds')
                      as "signals_per_minute!",
                  array(select r.name from rewards r
                        where r.namespace = c.namespace and r.deleted_at is null
                          and r.requires is not null
                          and jsonb_path_exists(r.requires, '$.**.counter ? (@.name == $name)',
                                                jsonb_build_object('name', c.name))
                        order by r.name) as "rewards!"
           from counters c
           where c.deleted_at is null and ($1::text is null or c.namespace = $1)
             and ($2::text is null or c.name = $2)"#,
        namespace,
        name,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let activity = CounterActivity {
                signals: SignalActivity {
                    last_signal_at: row.last_signal_at,
                    signals_per_minute: row.signals_per_minute,
                },
                rewards: row.rewards,
            };
            ((row.namespace, row.name), activity)
        })
        .collect())
}

/// Activity of every live ingest client row by `(namespace, name)`, of one
/// namespace and of one name when given (index of migration 0039).
pub async fn ingest_client_activity(
    db: &PgPool,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<HashMap<(String, String), SignalActivity>> {
    let rows = sqlx::query!(
        r#"select i.namespace, i.name,
                  (select max(s.received_at) from counter_signals s where s.client_id = i.id)
                      as last_signal_at,
                  (select count(*) from counter_signals s
                   where s.client_id = i.id and s.received_at > now() - interval '60 seconds')
                      as "signals_per_minute!"
           from ingest_clients i
           where i.deleted_at is null and ($1::text is null or i.namespace = $1)
             and ($2::text is null or i.name = $2)"#,
        namespace,
        name,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let activity = SignalActivity {
                last_signal_at: row.last_signal_at,
                signals_per_minute: row.signals_per_minute,
            };
            ((row.namespace, row.name), activity)
        })
        .collect())
}
