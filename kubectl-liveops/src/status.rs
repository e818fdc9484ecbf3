//! `status`: each event's phase and countdown to its next transition, and
//! the stock of each of its rewards, read from the cluster ([`cluster`]) or
//! the database ([`database`]).

pub mod cluster;
pub mod database;

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Error, Result, Verdict, cli::OutputFormat, countdown::countdown};

/// Which namespaces to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `-n`, or none given: the kubeconfig's namespace (`default` with a database).
    Namespace(Option<String>),
    /// `-A`.
    All,
}

impl Scope {
    /// From the `-n` and `-A` flags.
    pub fn from_flags(namespace: Option<String>, all_namespaces: bool) -> Self {
        if all_namespaces {
            Self::All
        } else {
            Self::Namespace(namespace)
        }
    }
}

/// One event as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventStatusLine {
    pub namespace: String,
    pub name: String,
    /// `status.phase` (cluster) or the projected phase (database); `-`
    /// before the operator has reconciled the event.
    pub phase: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub rewards: Vec<RewardStock>,
}

/// A reward's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RewardStock {
    pub name: String,
    pub claimed: i64,
    /// `None`: unlimited.
    pub quantity: Option<i64>,
    /// `None`: unlimited.
    pub remaining: Option<i64>,
}

/// Prints the status of the events in `scope`, from the database when
/// `database_url` is given, else from the cluster.
pub async fn run(
    scope: Scope,
    database_url: Option<&str>,
    output: OutputFormat,
    out: &mut impl Write,
) -> Result<Verdict> {
    let events = match database_url {
        Some(url) => database::read(&database::connect(url).await?, &scope).await?,
        None => cluster::read(&cluster::client().await?, &scope).await?,
    };
    let now = Utc::now();
    let text = match output {
        OutputFormat::Text => render(&events, now),
        OutputFormat::Json => serde_json::to_string_pretty(&json_view(&events, now))? + "\n",
    };
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "<stdout>".into(),
        source,
    })?;
    Ok(Verdict::Clean)
}

/// The text report: one line per event, one indented line per reward.
pub fn render(events: &[EventStatusLine], now: DateTime<Utc>) -> String {
    if events.is_empty() {
        return "No events found.\n".to_owned();
    }
    let width = events
        .iter()
        .map(|e| e.namespace.len() + e.name.len() + 1)
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for event in events {
        let key = format!("{}/{}", event.namespace, event.name);
        let next = countdown(now, event.starts_at, event.ends_at);
        text.push_str(&format!("{key:width$}  {:<9}  {next}\n", event.phase));
        for reward in &event.rewards {
            text.push_str(&format!("  reward {}: {}\n", reward.name, stock_text(reward)));
        }
        if event.rewards.is_empty() {
            text.push_str("  (no rewards)\n");
        }
    }
    text
}

fn stock_text(reward: &RewardStock) -> String {
    match (reward.quantity, reward.remaining) {
        (Some(quantity), Some(remaining)) => {
            format!(
                "{} claimed / {quantity} quantity / {remaining} remaining",
                reward.claimed
            )
        }
        _ => format!("{} claimed / unlimited", reward.claimed),
    }
}

/// The JSON report: the lines plus each event's countdown.
fn json_view(events: &[EventStatusLine], now: DateTime<Utc>) -> serde_json::Value {
    let events: Vec<serde_json::Value> = events
        .iter()
        .map(|event| {
            let mut value = serde_json::to_value(event).unwrap_or_default();
            value["next"] = countdown(now, event.starts_at, event.ends_at).into();
            value
        })
        .collect();
    serde_json::json!({ "events": events })
}

/// Remaining stock: quantity less claimed, never below zero.
pub fn remaining(quantity: Option<i64>, claimed: i64) -> Option<i64> {
    quantity.map(|quantity| (quantity - claimed).max(0))
}
