//! The catalogue the operator bench loads: `events` Events sharing one
//! `startsAt`, each with `rewards_per_event` Rewards, as YAML files (manifests
//! mode), JSON objects (the fake API server) and rows (the baseline).

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The namespace every object of the catalogue lives in.
pub const NAMESPACE: &str = "bench";

/// What to generate.
#[derive(Clone, Debug)]
pub struct Catalogue {
    pub events: usize,
    pub rewards_per_event: usize,
    /// The `startsAt` every Event shares.
    pub starts_at: DateTime<Utc>,
}

impl Catalogue {
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::days(30)
    }

    pub fn event_name(index: usize) -> String {
        format!("event-{index:05}")
    }

    pub fn reward_name(event: usize, reward: usize) -> String {
        format!("reward-{event:05}-{reward}")
    }

    pub fn reward_count(&self) -> usize {
        self.events * self.rewards_per_event
    }

    fn rfc3339(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// One Event as a document; a 7-day streak so the streak validation runs.
    pub fn event_json(&self, index: usize) -> Value {
        let name = Self::event_name(index);
        json!({
            "apiVersion": "liveops.dev/v1alpha1", "kind": "Event",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "displayName": name, "startsAt": Self::rfc3339(self.starts_at),
                "endsAt": Self::rfc3339(self.ends_at()), "timeZone": "Asia/Seoul",
                "condition": {"loginStreak": {"days": 7}},
            },
        })
    }

    /// One Reward as a document.
    pub fn reward_json(&self, event: usize, reward: usize) -> Value {
        let name = Self::reward_name(event, reward);
        json!({
            "apiVersion": "liveops.dev/v1alpha1", "kind": "Reward",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "eventRef": {"name": Self::event_name(event)}, "displayName": name,
                "quantity": 1000, "payload": {"itemCode": "GOLD"},
            },
        })
    }

    fn event_yaml(&self, index: usize) -> String {
        let name = Self::event_name(index);
        format!(
            "apiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: {name}\n  namespace: {NAMESPACE}\n\
             spec:\n  displayName: {name}\n  startsAt: \"{}\"\n  endsAt: \"{}\"\n  timeZone: Asia/Seoul\n\
             \x20 condition:\n    loginStreak:\n      days: 7\n",
            Self::rfc3339(self.starts_at),
            Self::rfc3339(self.ends_at()),
        )
    }

    fn reward_yaml(event: usize, reward: usize) -> String {
        let name = Self::reward_name(event, reward);
        format!(
            "apiVersion: liveops.dev/v1alpha1\nkind: Reward\nmetadata:\n  name: {name}\n  namespace: {NAMESPACE}\n\
             spec:\n  eventRef:\n    name: {}\n  displayName: {name}\n  quantity: 1000\n  payload:\n    \
             itemCode: GOLD\n",
            Self::event_name(event),
        )
    }

    /// Writes every object as YAML, `per_file` Events (with their Rewards) per file.
    pub fn write_yaml(&self, dir: &Path, per_file: usize) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        let indices: Vec<usize> = (0..self.events).collect();
        for (file, chunk) in indices.chunks(per_file.max(1)).enumerate() {
            let mut documents = Vec::new();
            for &event in chunk {
                documents.push(self.event_yaml(event));
                for reward in 0..self.rewards_per_event {
                    documents.push(Self::reward_yaml(event, reward));
                }
            }
            std::fs::write(
                dir.join(format!("catalogue-{file:04}.yaml")),
                documents.join("---\n"),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Catalogue;

    #[test]
    fn the_yaml_parses_into_every_object() {
        let catalogue = Catalogue {
            events: 3,
            rewards_per_event: 2,
            starts_at: chrono::Utc::now(),
        };
        let dir = std::env::temp_dir().join(format!("liveops-catalogue-{}", std::process::id()));
        catalogue.write_yaml(&dir, 2).expect("written");
        let mut objects = 0;
        for entry in std::fs::read_dir(&dir).expect("listed") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let contents = operator::source::manifests::parse_file(&path, &text);
            assert!(contents.problems.is_empty(), "{:?}", contents.problems);
            objects += contents.manifests.len();
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(objects, 9);
    }
}
