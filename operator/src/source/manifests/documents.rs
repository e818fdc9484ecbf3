//! Reading a manifests directory: every `*.yaml`/`*.yml` file under it,
//! split into documents, each parsed into an Event, a Reward, a
//! WebhookEndpoint, a Counter, an IngestClient or a `v1` Secret, or reported as a [`DocumentProblem`]
//! (file, document, field, message).
//!
//! Files are re-read only when their size or modification time changes, and
//! re-parsed only when their content hash changes, so a rescan every few
//! hundred milliseconds costs one `stat` per file.

use std::{
    collections::{BTreeMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};

use k8s_openapi::api::core::v1::Secret;
use liveops_domain::crd::{Counter, Event, IngestClient, Reward, WebhookEndpoint};

use super::object_key::ObjectKey;
use crate::projection::{Kind, namespace_of};

/// A document that parsed into one of our kinds.
#[derive(Clone, Debug)]
pub enum Manifest {
    Event(Box<Event>),
    Reward(Box<Reward>),
    WebhookEndpoint(Box<WebhookEndpoint>),
    Counter(Box<Counter>),
    IngestClient(Box<IngestClient>),
    /// Only read for the signing secrets WebhookEndpoints name.
    Secret(Box<Secret>),
}

/// Where a document sits: file and 1-based document number within it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Shared by the documents of one file (one path per file, not per object).
    pub file: Arc<Path>,
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

/// Modification time and size: a file whose stamp is unchanged is not read.
type Stamp = (Option<SystemTime>, u64);

/// What is kept of a parsed file: which objects it declares, not the
/// objects themselves (those move into the tracked state, so the operator
/// holds one copy of each; see `state`).
pub struct FileIndex {
    stamp: Stamp,
    hash: u64,
    /// The objects its documents declare, in document order.
    pub keys: Vec<ObjectKey>,
    /// See [`FileContents::held`].
    pub held: Vec<ObjectKey>,
}

/// The parsed state of a directory, updated by [`ManifestDirectory::rescan`].
#[derive(Default)]
pub struct ManifestDirectory {
    files: BTreeMap<PathBuf, FileIndex>,
    /// Objects of the files parsed since [`ManifestDirectory::take_fresh`].
    fresh: BTreeMap<PathBuf, Vec<(Origin, Manifest)>>,
}

impl ManifestDirectory {
    /// Re-reads changed files. Returns the problems of files that changed
    /// (to report once) and whether anything at all changed.
    pub fn rescan(&mut self, dir: &Path) -> std::io::Result<(bool, Vec<DocumentProblem>)> {
        let mut seen = Vec::new();
        list_yaml_files(dir, &mut seen)?;
        let stale: Vec<(PathBuf, Stamp)> = seen
            .iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(path).ok()?;
                let stamp = (meta.modified().ok(), meta.len());
                let cached = self.files.get(path).is_some_and(|cached| cached.stamp == stamp);
                (!cached).then(|| (path.clone(), stamp))
            })
            .collect();
        let mut changed = false;
        let mut problems = Vec::new();
        // In waves: only one wave's texts and parse transients at a time.
        for wave in stale.chunks(WAVE_FILES) {
            let edited = self.read_edited(wave);
            changed |= !edited.is_empty();
            for ((path, stamp, hash, _), contents) in edited.iter().zip(parse_all(&edited)) {
                problems.extend(contents.problems);
                let keys = contents.manifests.iter().map(|(_, m)| manifest_key(m)).collect();
                let (stamp, hash, held) = (*stamp, *hash, contents.held);
                self.files.insert(
                    path.clone(),
                    FileIndex {
                        stamp,
                        hash,
                        keys,
                        held,
                    },
                );
                self.fresh.insert(path.clone(), rehome(contents.manifests));
            }
        }
        let before = self.files.len();
        self.files.retain(|path, _| seen.contains(path));
        self.fresh.retain(|path, _| seen.contains(path));
        changed |= self.files.len() != before;
        Ok((changed, problems))
    }

    /// The texts of the files of `wave` whose content changed.
    fn read_edited(&mut self, wave: &[(PathBuf, Stamp)]) -> Vec<(PathBuf, Stamp, u64, String)> {
        let mut edited = Vec::new();
        for (path, stamp) in wave {
            // The file may vanish between listing and reading: a later rescan sees that.
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let hash = content_hash(&text);
            if let Some(cached) = self.files.get_mut(path)
                && cached.hash == hash
            {
                cached.stamp = *stamp;
                continue;
            }
            edited.push((path.clone(), *stamp, hash, text));
        }
        edited
    }

    /// Every file's index, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&PathBuf, &FileIndex)> {
        self.files.iter()
    }

    /// The objects of the files parsed since the last call, by file.
    pub fn take_fresh(&mut self) -> BTreeMap<PathBuf, Vec<(Origin, Manifest)>> {
        std::mem::take(&mut self.fresh)
    }

    /// Parses `path` again (a file whose objects were not kept, now needed:
    /// a duplicate it held took over from a file that went away).
    pub fn parse_again(&self, path: &Path) -> Vec<(Origin, Manifest)> {
        std::fs::read_to_string(path)
            .map(|text| parse_file(path, &text).manifests)
            .unwrap_or_default()
    }
}

mod parse;

pub use self::parse::{parse_file, split_documents};

/// Files read and parsed per wave: a few hundred documents per core.
const WAVE_FILES: usize = 8;

/// The objects parsed on the worker threads, copied on this thread and the
/// originals dropped. The allocator gives each parsing thread an arena of
/// its own; left there, the 40,000 long-lived objects of a load pin pages
/// among the parser's freed temporaries (tens of megabytes of resident
/// memory, bench/operator/README.md). Copied here, the workers' arenas
/// empty out and are reused wave after wave.
fn rehome(manifests: Vec<(Origin, Manifest)>) -> Vec<(Origin, Manifest)> {
    let copies = manifests.to_vec();
    drop(manifests);
    copies
}

/// Parses `files` on every core: at start-up a catalogue of 40,000
/// documents is parsed, and parsing is most of the load's CPU.
fn parse_all(files: &[(PathBuf, Stamp, u64, String)]) -> Vec<FileContents> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let parse = |part: &[(PathBuf, Stamp, u64, String)]| -> Vec<FileContents> {
        part.iter()
            .map(|(path, _, _, text)| parse_file(path, text))
            .collect()
    };
    if cores < 2 || files.len() < 2 {
        return parse(files);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(files.len().div_ceil(cores))
            .map(|part| scope.spawn(move || parse(part)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
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

/// The object's key as the source tracks it.
pub fn manifest_key(manifest: &Manifest) -> ObjectKey {
    let (kind, meta) = match manifest {
        Manifest::Event(event) => (Kind::Event, &event.metadata),
        Manifest::Reward(reward) => (Kind::Reward, &reward.metadata),
        Manifest::WebhookEndpoint(endpoint) => (Kind::WebhookEndpoint, &endpoint.metadata),
        Manifest::Counter(counter) => (Kind::Counter, &counter.metadata),
        Manifest::IngestClient(client) => (Kind::IngestClient, &client.metadata),
        Manifest::Secret(secret) => (Kind::Secret, &secret.metadata),
    };
    ObjectKey::new(kind, namespace_of(meta), meta.name.clone().unwrap_or_default())
}

#[cfg(test)]
#[path = "documents_tests.rs"]
mod tests;
