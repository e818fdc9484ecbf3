//! Reading a manifests directory: every `*.yaml`/`*.yml` file under it,
//! split into documents, each parsed into an Event or a Reward or reported
//! as a [`DocumentProblem`] (file, document, field, message).
//!
//! Files are re-read only when their size or modification time changes, and
//! re-parsed only when their content hash changes, so a rescan every few
//! hundred milliseconds costs one `stat` per file.

use std::{
    collections::{BTreeMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    time::SystemTime,
};

use liveops_domain::crd::{Event, GROUP, Reward, VERSION};
use serde_json::Value;

use crate::projection::{Kind, namespace_of};

/// Which object a document declares: kind, namespace, name.
pub type ObjectKey = (Kind, String, String);

/// A document that parsed into one of our kinds.
#[derive(Clone, Debug)]
pub enum Manifest {
    Event(Box<Event>),
    Reward(Box<Reward>),
}

/// Where a document sits: file and 1-based document number within it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub document: usize,
    /// 1-based line where the document starts.
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} document {} (line {})",
            self.file.display(),
            self.document,
            self.line
        )
    }
}

/// A document that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentProblem {
    pub origin: Origin,
    /// Path of the offending field (`spec.endsAt`), or `-` for the whole document.
    pub field: String,
    pub message: String,
}

/// What one file holds.
#[derive(Clone, Debug, Default)]
pub struct FileContents {
    pub manifests: Vec<(Origin, Manifest)>,
    pub problems: Vec<DocumentProblem>,
    /// Objects whose document failed to parse but names them: their last
    /// good version stays in force, as when an API server rejects an update.
    pub held: Vec<ObjectKey>,
}

struct CachedFile {
    stamp: (Option<SystemTime>, u64),
    hash: u64,
    contents: FileContents,
}

/// The parsed state of a directory, updated by [`ManifestDirectory::rescan`].
#[derive(Default)]
pub struct ManifestDirectory {
    files: BTreeMap<PathBuf, CachedFile>,
}

impl ManifestDirectory {
    /// Re-reads changed files. Returns the problems of files that changed
    /// (to report once) and whether anything at all changed.
    pub fn rescan(&mut self, dir: &Path) -> std::io::Result<(bool, Vec<DocumentProblem>)> {
        let mut seen = Vec::new();
        list_yaml_files(dir, &mut seen)?;
        let mut changed = false;
        let mut problems = Vec::new();
        for path in &seen {
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            let stamp = (meta.modified().ok(), meta.len());
            if self.files.get(path).is_some_and(|cached| cached.stamp == stamp) {
                continue;
            }
            // The file may vanish between listing and reading: a later rescan sees that.
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let hash = content_hash(&text);
            if let Some(cached) = self.files.get_mut(path)
                && cached.hash == hash
            {
                cached.stamp = stamp;
                continue;
            }
            let contents = parse_file(path, &text);
            problems.extend(contents.problems.iter().cloned());
            self.files.insert(
                path.clone(),
                CachedFile {
                    stamp,
                    hash,
                    contents,
                },
            );
            changed = true;
        }
        let before = self.files.len();
        self.files.retain(|path, _| seen.contains(path));
        changed |= self.files.len() != before;
        Ok((changed, problems))
    }

    /// Every file's contents, in path order.
    pub fn files(&self) -> impl Iterator<Item = &FileContents> {
        self.files.values().map(|cached| &cached.contents)
    }
}

fn content_hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Hidden entries (`.git`, editor swap files) are skipped.
fn list_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // `metadata` follows symlinks (ConfigMap mounts are symlink farms).
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            list_yaml_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Splits a YAML stream at `---` lines, keeping each document's first line.
fn split_documents(text: &str) -> Vec<(usize, String)> {
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
    for (index, (line, document)) in split_documents(text).into_iter().enumerate() {
        let origin = Origin {
            file: path.to_path_buf(),
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
            // Other objects (a kustomization, a ConfigMap) may share the directory.
            _ => continue,
        };
        if api_version != format!("{GROUP}/{VERSION}") {
            let message = format!("apiVersion must be {GROUP}/{VERSION}, found {api_version:?}");
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
    Some((kind, namespace.to_owned(), name.to_owned()))
}

/// The object's key as the source tracks it.
pub fn manifest_key(manifest: &Manifest) -> ObjectKey {
    let (kind, meta) = match manifest {
        Manifest::Event(event) => (Kind::Event, &event.metadata),
        Manifest::Reward(reward) => (Kind::Reward, &reward.metadata),
    };
    (
        kind,
        namespace_of(meta).to_owned(),
        meta.name.clone().unwrap_or_default(),
    )
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

#[cfg(test)]
#[path = "documents_tests.rs"]
mod tests;
