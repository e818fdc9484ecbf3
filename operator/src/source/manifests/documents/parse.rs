//! Parsing one file: split into documents, each typed into an Event, a
//! Reward, a WebhookEndpoint or a `v1` Secret (the signing secrets endpoints
//! name) with the server-set fields cleared, or reported as a problem.

use std::{path::Path, sync::Arc};

use k8s_openapi::api::core::v1::Secret;
use liveops_domain::crd::{Counter, Event, GROUP, IngestClient, Reward, VERSION, WebhookEndpoint};
use serde_json::Value;

use super::{DocumentProblem, FileContents, Manifest, Origin};
use crate::projection::Kind;
use crate::source::manifests::object_key::ObjectKey;

/// Splits a YAML stream at `---` lines into (first line, text) per document,
/// skipping documents with nothing but comments (`kubectl liveops validate`
/// numbers documents the same way).
pub fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (number, line) in text.lines().enumerate() {
        let marker = line == "---" || line.starts_with("--- ") || line == "...";
        if marker {
            documents.push((start, std::mem::take(&mut current)));
            start = number + 2;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    documents.push((start, current));
    documents
        .into_iter()
        .filter(|(_, doc)| {
            doc.lines()
                .any(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        })
        .collect()
}

/// Parses every document of one file.
pub fn parse_file(path: &Path, text: &str) -> FileContents {
    let mut contents = FileContents::default();
    let file: Arc<Path> = Arc::from(path);
    for (index, (line, document)) in split_documents(text).into_iter().enumerate() {
        let origin = Origin {
            file: file.clone(),
            document: index + 1,
            line,
        };
        let problem = |field: &str, message: String| DocumentProblem {
            origin: origin.clone(),
            field: field.to_owned(),
            message,
        };
        let value: Value = match serde_saphyr::from_str(&document) {
            Ok(value) => value,
            Err(error) => {
                contents
                    .problems
                    .push(problem("-", format!("not valid YAML: {error}")));
                continue;
            }
        };
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = match value.get("kind").and_then(Value::as_str) {
            Some("Event") => Kind::Event,
            Some("Reward") => Kind::Reward,
            Some("WebhookEndpoint") => Kind::WebhookEndpoint,
            Some("Counter") => Kind::Counter,
            Some("IngestClient") => Kind::IngestClient,
            // A Secret of another API group is not ours to read.
            Some("Secret") if api_version == "v1" => Kind::Secret,
            // Other objects (a kustomization, a ConfigMap) may share the directory.
            _ => continue,
        };
        let wanted = match kind {
            Kind::Secret => "v1".to_owned(),
            _ => format!("{GROUP}/{VERSION}"),
        };
        if api_version != wanted {
            let message = format!("apiVersion must be {wanted}, found {api_version:?}");
            contents.problems.push(problem("apiVersion", message));
            continue;
        }
        let key = key_of(kind, &value);
        let parsed = match kind {
            Kind::Event => typed::<Event>(value).map(|mut event| {
                clear_server_fields(&mut event.metadata);
                event.status = None;
                Manifest::Event(Box::new(event))
            }),
            Kind::Reward => typed::<Reward>(value).map(|mut reward| {
                clear_server_fields(&mut reward.metadata);
                reward.status = None;
                Manifest::Reward(Box::new(reward))
            }),
            Kind::WebhookEndpoint => typed::<WebhookEndpoint>(value).map(|mut endpoint| {
                clear_server_fields(&mut endpoint.metadata);
                endpoint.status = None;
                Manifest::WebhookEndpoint(Box::new(endpoint))
            }),
            Kind::Counter => typed::<Counter>(value).map(|mut counter| {
                clear_server_fields(&mut counter.metadata);
                counter.status = None;
                Manifest::Counter(Box::new(counter))
            }),
            Kind::IngestClient => typed::<IngestClient>(value).map(|mut client| {
                clear_server_fields(&mut client.metadata);
                client.status = None;
                Manifest::IngestClient(Box::new(client))
            }),
            // `data` values are base64 (decoded here: a bad one is a
            // problem at `data.<key>`), `stringData` values plain text.
            Kind::Secret => typed::<Secret>(value).map(|mut secret| {
                clear_server_fields(&mut secret.metadata);
                Manifest::Secret(Box::new(secret))
            }),
        };
        match (parsed, key) {
            (Ok(manifest), Some(_)) => contents.manifests.push((origin, manifest)),
            (Ok(_), None) => contents
                .problems
                .push(problem("metadata.name", "is required".to_owned())),
            (Err((field, message)), key) => {
                contents.problems.push(problem(&field, message));
                contents.held.extend(key);
            }
        }
    }
    contents
}

fn key_of(kind: Kind, value: &Value) -> Option<ObjectKey> {
    let meta = value.get("metadata")?;
    let name = meta.get("name")?.as_str().filter(|name| !name.is_empty())?;
    let namespace = meta.get("namespace").and_then(Value::as_str).unwrap_or("default");
    Some(ObjectKey::new(kind, namespace, name))
}

/// Deserialises with the failing field's path (`spec.quantity`) kept.
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        let field = if field == "." { "-".to_owned() } else { field };
        (field, error.into_inner().to_string())
    })
}

/// A file is not an API server: uid, generation and status come from the
/// operator (rows are keyed by namespace/name, see `projection::definition_key`).
fn clear_server_fields(meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) {
    meta.uid = None;
    meta.generation = None;
    meta.resource_version = None;
    if meta.namespace.is_none() {
        meta.namespace = Some("default".to_owned());
    }
}
