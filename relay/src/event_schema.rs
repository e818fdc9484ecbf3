//! The `data` of each event type as Rust types, and their JSON Schemas,
//! committed under `docs/events/` (DESIGN.md, "Event bus"). Regenerate with
//! `cargo run -p relay -- event-schemas --write docs/events`; a test fails
//! when the committed files are stale, as for the CRDs.

use std::path::Path;

use chrono::{DateTime, Utc};
use liveops_domain::crd::EventPhase;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// `data` of `dev.liveops.reward.claimed`: a claim was granted. Written by
/// the claim statement (`api-server/src/claim/sql/decide.sql`); the event id
/// is the claim id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewardClaimed {
    /// The claim; also the CloudEvents `id`.
    pub claim_id: Uuid,
    /// The user granted the reward.
    pub user_id: Uuid,
    /// The reward granted.
    pub reward_id: Uuid,
    /// The Reward resource's name.
    pub reward_name: String,
    /// The Event the reward belongs to (last token of the subject).
    pub event_id: Uuid,
    /// The Event resource's namespace.
    pub event_namespace: String,
    /// The Event resource's name.
    pub event_name: String,
    /// The Event generation whose rules granted the claim.
    pub event_generation: i64,
    /// `once`, a local date (Daily) or an ISO week (Weekly).
    pub period_key: String,
    /// Which of the user's grants of this reward in the period (1-based).
    pub slot: i32,
    /// The Reward's `payload`: what the game grants; null when it has none.
    pub payload: Option<serde_json::Value>,
}

/// `data` of `dev.liveops.reward.sold_out`: the grant that took a reward's
/// last unit committed. Written once per sell-out by the claim statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewardSoldOut {
    /// The reward sold out.
    pub reward_id: Uuid,
    /// The Reward resource's name.
    pub reward_name: String,
    /// The Event the reward belongs to (last token of the subject).
    pub event_id: Uuid,
    /// The Event resource's namespace.
    pub event_namespace: String,
    /// The Event resource's name.
    pub event_name: String,
    /// The stock that is now all claimed.
    pub quantity: i32,
    /// The claim that took the last unit.
    pub last_claim_id: Uuid,
}

/// `data` of `dev.liveops.event.phase_changed`: an Event's phase changed,
/// in either operator mode. Written by a trigger on `events` in the
/// transaction that changed the phase (migration 0031), so messages of one
/// Event reach its subject in the order the phases changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhaseChanged {
    /// The Event (last token of the subject).
    pub event_id: Uuid,
    /// The Event resource's namespace.
    pub namespace: String,
    /// The Event resource's name.
    pub name: String,
    /// The phase before; null when the Event was first projected.
    pub from: Option<EventPhase>,
    /// The phase now.
    pub to: EventPhase,
    /// When the change was written (its transaction's start).
    pub at: DateTime<Utc>,
    /// The Event generation the operator had projected.
    pub generation: i64,
}

/// Each event type with the schema of its `data`.
fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("dev.liveops.reward.claimed", schemars::schema_for!(RewardClaimed)),
        (
            "dev.liveops.event.phase_changed",
            schemars::schema_for!(PhaseChanged),
        ),
        (
            "dev.liveops.reward.sold_out",
            schemars::schema_for!(RewardSoldOut),
        ),
    ]
}

/// `(file name, pretty JSON)` of every schema, as committed.
pub fn render_all() -> Vec<(String, String)> {
    schemas()
        .into_iter()
        .map(|(event_type, mut schema)| {
            schema.insert(
                "$id".to_owned(),
                format!("https://liveops.dev/events/{event_type}.schema.json").into(),
            );
            schema.insert("title".to_owned(), format!("{event_type} data").into());
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
            (format!("{event_type}.schema.json"), text)
        })
        .collect()
}

/// Writes every schema into `dir`.
pub fn write_all(dir: &Path) -> Result<()> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for (file, text) in render_all() {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::render_all;

    #[test]
    fn the_committed_event_schemas_are_up_to_date() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/events");
        for (file, text) in render_all() {
            let committed = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
            assert!(
                committed == text,
                "docs/events/{file} is stale: run `cargo run -p relay -- event-schemas --write docs/events`"
            );
        }
    }

    #[test]
    fn every_schema_names_its_required_fields() {
        for (file, text) in render_all() {
            let schema: serde_json::Value = serde_json::from_str(&text).expect("json");
            let required = schema["required"].as_array().map(Vec::len).unwrap_or_default();
            assert!(required >= 5, "{file}: {required} required fields");
            assert!(schema["$id"].as_str().is_some_and(|id| id.ends_with(&file)));
        }
    }
}
