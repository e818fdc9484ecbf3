//! Parsing manifests files: multi-document streams, foreign objects, and
//! problems reported with file, document, field and message.

use std::path::Path;

use super::*;

const EVENT: &str = "apiVersion: liveops.dev/v1alpha1
kind: Event
metadata:
  name: week
spec:
  displayName: Week
  startsAt: 2026-03-01T00:00:00Z
  endsAt: 2026-03-08T00:00:00Z
";

const REWARD: &str = "apiVersion: liveops.dev/v1alpha1
kind: Reward
metadata:
  name: gold
  namespace: games
spec:
  eventRef: {name: week}
  displayName: Gold
  quantity: 10
";

fn parse(text: &str) -> FileContents {
    parse_file(Path::new("dir/file.yaml"), text)
}

#[test]
fn a_multi_document_file_yields_every_object() {
    let text = format!("# leading comment\n---\n{EVENT}---\n{REWARD}\n---\n# only a comment\n");
    let contents = parse(&text);
    assert!(contents.problems.is_empty(), "{:?}", contents.problems);
    let keys: Vec<_> = contents.manifests.iter().map(|(_, m)| manifest_key(m)).collect();
    assert_eq!(
        keys,
        [
            ObjectKey::new(Kind::Event, "default", "week"),
            ObjectKey::new(Kind::Reward, "games", "gold")
        ]
    );
    assert_eq!(contents.manifests[1].0.document, 2);
    assert_eq!(contents.manifests[1].0.line, 12);
}

#[test]
fn other_kinds_are_ignored() {
    let contents = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    assert!(contents.manifests.is_empty() && contents.problems.is_empty());
}

#[test]
fn a_bad_field_is_reported_with_its_path_and_the_rest_still_load() {
    let bad = EVENT.replace("endsAt: 2026-03-08T00:00:00Z", "endsAt: next tuesday");
    let contents = parse(&format!("{bad}---\n{REWARD}"));
    assert_eq!(contents.manifests.len(), 1, "the Reward still loads");
    let problem = &contents.problems[0];
    assert_eq!(
        (problem.origin.document, problem.field.as_str()),
        (1, "spec.endsAt")
    );
    assert!(!problem.message.is_empty());
    assert_eq!(contents.held, [ObjectKey::new(Kind::Event, "default", "week")]);
}

#[test]
fn unknown_and_missing_fields_are_reported() {
    let typo = parse(&EVENT.replace("displayName", "displayNmae"));
    assert!(
        typo.problems[0].message.contains("displayNmae"),
        "{:?}",
        typo.problems
    );
    let negative = parse(&REWARD.replace("quantity: 10", "quantity: lots"));
    assert_eq!(negative.problems[0].field, "spec.quantity");
}

#[test]
fn broken_yaml_and_wrong_versions_are_reported() {
    let contents = parse(&format!(
        "{EVENT}---\nkind: [unclosed\n---\n{}",
        REWARD.replace("v1alpha1", "v9")
    ));
    assert_eq!(contents.manifests.len(), 1);
    let found: Vec<_> = contents
        .problems
        .iter()
        .map(|p| (p.origin.document, p.field.as_str()))
        .collect();
    assert_eq!(found, [(2, "-"), (3, "apiVersion")]);
}

#[test]
fn server_fields_in_a_file_are_ignored() {
    let text = EVENT.replace(
        "  name: week\n",
        "  name: week\n  uid: 0b6f5f9e-7f43-4f3e-9d5e-1d4b1e8f0a11\n  generation: 9\n",
    ) + "status:\n  phase: Ended\n";
    let contents = parse(&text);
    let Manifest::Event(event) = &contents.manifests[0].1 else {
        panic!("an Event")
    };
    assert_eq!(
        (event.metadata.uid.as_ref(), event.metadata.generation),
        (None, None)
    );
    assert!(event.status.is_none());
}

#[test]
fn rescan_notices_new_edited_and_deleted_files() {
    let dir = std::env::temp_dir().join(format!("liveops-docs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("nested")).expect("temp dir");
    let mut directory = ManifestDirectory::default();
    assert!(!directory.rescan(&dir).expect("scan").0);

    std::fs::write(dir.join("nested/event.yaml"), EVENT).expect("write");
    std::fs::write(dir.join("notes.txt"), "not yaml").expect("write");
    assert!(directory.rescan(&dir).expect("scan").0, "a new file is a change");
    assert!(!directory.rescan(&dir).expect("scan").0, "nothing changed");
    assert_eq!(directory.files().count(), 1);

    std::fs::write(dir.join("nested/event.yaml"), EVENT.replace("Week", "Week!")).expect("write");
    assert!(directory.rescan(&dir).expect("scan").0, "an edit is a change");

    std::fs::remove_file(dir.join("nested/event.yaml")).expect("remove");
    assert!(directory.rescan(&dir).expect("scan").0, "a deletion is a change");
    assert_eq!(directory.files().count(), 0);
    std::fs::remove_dir_all(&dir).expect("clean up");
}
