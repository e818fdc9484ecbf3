//! The fake API server's list of a collection, paged as a real one is.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{FakeApi, ResponseBody, json_response};

impl FakeApi {
    /// A list, in pages when the client asks for them (`limit`, `continue`)
    /// as the watcher does: one 40,000-item response would put the whole
    /// collection in memory twice, which a real API server never makes a
    /// client do. Every page carries the first page's resourceVersion, so a
    /// watch from it replays whatever changed while the pages were read.
    pub(super) fn list(&self, plural: &str, query: &str) -> Response<ResponseBody> {
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .map(ToOwned::to_owned)
        };
        let limit = param("limit")
            .and_then(|limit| limit.parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        let state = self.lock();
        let (version, after) = param("continue")
            .and_then(|token| {
                let (version, name) = token.split_once('.')?;
                Some((version.parse().ok()?, Some(name.to_owned())))
            })
            .unwrap_or((state.resource_version, None));
        let mut items: Vec<Value> = state
            .objects
            .range((plural.to_owned(), after.clone().unwrap_or_default())..)
            .take_while(|((p, _), _)| p == plural)
            .filter(|((_, name), _)| after.as_ref() != Some(name))
            .take(limit.saturating_add(1))
            .map(|(_, object)| object.clone())
            .collect();
        let mut metadata = json!({"resourceVersion": version.to_string()});
        if items.len() > limit {
            items.truncate(limit);
            let last = items
                .last()
                .and_then(|item| item["metadata"]["name"].as_str())
                .unwrap_or_default();
            metadata["continue"] = json!(format!("{version}.{last}"));
        }
        let list = json!({
            "apiVersion": "liveops.dev/v1alpha1",
            "kind": "List",
            "metadata": metadata,
            "items": items,
        });
        json_response(StatusCode::OK, &list)
    }
}
