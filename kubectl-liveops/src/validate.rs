//! `validate DIR`: every YAML document under DIR checked offline as an API
//! server and the operator would check it: the CRD's OpenAPI schema
//! ([`schema`]), its CEL rules ([`cel`]) and the operator's own parsing and
//! spec checks ([`operator_checks`]). Documents of other API groups (a
//! Secret, a ConfigMap, a core `Event`) are skipped.

pub mod cel;
pub mod crds;
pub mod lines;
pub mod operator_checks;
pub mod schema;

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use operator::source::manifests::split_documents;
use serde_json::Value;

use crate::{Error, Result, Verdict};

/// One problem: where it is, which object, which field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    /// `kind/namespace/name`, or `-` when the document names no object.
    pub object: String,
    /// Path of the field (`spec.endsAt`), or `-` for the whole document.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}: {}",
            self.file.display(),
            self.line,
            self.object,
            self.field,
            self.message
        )
    }
}

/// A field and what is wrong with it, before it is placed in a file.
pub type FieldProblem = (String, String);

/// Validates DIR, printing one line per problem.
pub fn run(dir: &Path, out: &mut impl Write) -> Result<Verdict> {
    let problems = validate_dir(dir)?;
    for problem in &problems {
        writeln!(out, "{problem}").map_err(|source| io(Path::new("<stdout>"), source))?;
    }
    Ok(if problems.is_empty() {
        Verdict::Clean
    } else {
        Verdict::Problems
    })
}

/// Every problem of every document under `dir`, in path order.
pub fn validate_dir(dir: &Path) -> Result<Vec<Problem>> {
    let mut files = Vec::new();
    list_yaml_files(dir, &mut files)?;
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| io(&file, source))?;
        problems.extend(validate_file(&file, &text));
    }
    Ok(problems)
}

/// Every problem of one file's documents.
pub fn validate_file(file: &Path, text: &str) -> Vec<Problem> {
    let operator_view = operator_checks::OperatorView::of_file(file, text);
    let mut problems = Vec::new();
    for (index, (first_line, document)) in split_documents(text).into_iter().enumerate() {
        let number = index + 1;
        let place = |object: &str, (field, message): FieldProblem| Problem {
            file: file.to_path_buf(),
            line: lines::locate(&document, first_line, &field),
            object: object.to_owned(),
            field,
            message,
        };
        let value: Value = match serde_saphyr::from_str(&document) {
            Ok(value) => value,
            Err(error) => {
                problems.push(place("-", ("-".to_owned(), format!("not valid YAML: {error}"))));
                continue;
            }
        };
        let Some(found) = checked_document(&value, &operator_view, number) else {
            continue;
        };
        let object = object_label(&value);
        let mut placed: Vec<Problem> = found.into_iter().map(|found| place(&object, found)).collect();
        placed.sort_by_key(|problem| problem.line);
        problems.extend(placed);
    }
    problems
}

/// The problems of one liveops document; `None` for other API groups.
fn checked_document(
    value: &Value,
    operator_view: &operator_checks::OperatorView,
    number: usize,
) -> Option<Vec<FieldProblem>> {
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
    if api_version.split('/').next() != Some(crds::GROUP) {
        return None;
    }
    let Some(definition) = crds::definition(kind) else {
        let known = crds::kinds().join(", ");
        return Some(vec![(
            "kind".to_owned(),
            format!(
                "unknown kind {kind:?} in {}, expected one of {known}",
                crds::GROUP
            ),
        )]);
    };
    let mut found = Vec::new();
    if api_version != definition.api_version {
        found.push((
            "apiVersion".to_owned(),
            format!("must be {}, found {api_version:?}", definition.api_version),
        ));
        return Some(found);
    }
    found.extend(schema::problems(&definition.schema, value));
    let structural = !found.is_empty();
    let later = cel::problems(&definition.schema, value, structural)
        .into_iter()
        .chain(operator_view.problems_of(number, structural));
    for problem in later {
        // One line per field: a CEL rule restating the schema (`self >= 0`
        // beside `minimum: 0`) or the operator's mirror of a CEL rule is the
        // same problem in other words; the first checker's words are kept.
        if !found
            .iter()
            .any(|(field, message)| *field == problem.0 || *message == problem.1)
        {
            found.push(problem);
        }
    }
    Some(found)
}

/// `kind/namespace/name` as the operator keys it (no namespace: `default`).
fn object_label(value: &Value) -> String {
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
    format!(
        "{}/{}/{}",
        text("/kind").unwrap_or("-"),
        text("/metadata/namespace").unwrap_or("default"),
        text("/metadata/name").unwrap_or("-")
    )
}

/// Hidden entries (`.git`) are skipped, as the operator's manifests mode does.
fn list_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| io(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| io(dir, source))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|source| io(&path, source))?;
        if meta.is_dir() {
            list_yaml_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
