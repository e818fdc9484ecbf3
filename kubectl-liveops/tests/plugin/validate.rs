//! `validate`: each fixture under `tests/fixtures/invalid` holds one kind of
//! mistake and is reported for exactly that; the examples and the catalogue
//! pass; kubectl finds the plugin on PATH and passes its exit code on.

use std::path::Path;

use kubectl_liveops::validate::validate_dir;

use super::catalogue::fixture;

/// File, line, object, field and a piece of the message of each problem.
const EXPECTED: [(&str, usize, &str, &str, &str); 10] = [
    (
        "bad-enum.yaml",
        12,
        "Event/games/bad-enum",
        "spec.claimPolicy.frequency",
        "unsupported value \"Hourly\"",
    ),
    (
        "bad-format.yaml",
        9,
        "Event/games/bad-format",
        "spec.startsAt",
        "RFC 3339",
    ),
    // The operator's check: the name passes the CRD's CEL pattern.
    (
        "bad-time-zone.yaml",
        11,
        "Event/games/bad-time-zone",
        "spec.timeZone",
        "unknown IANA time zone",
    ),
    // The CRD's CEL rule, in its own words.
    (
        "cel-rule.yaml",
        13,
        "Event/games/cel-rule",
        "spec.condition.loginDays.days",
        "does not fit inside",
    ),
    (
        "ends-before-start.yaml",
        10,
        "Event/games/ends-before-start",
        "spec.endsAt",
        "endsAt must be after startsAt",
    ),
    (
        "missing-required.yaml",
        7,
        "Event/games/missing-required",
        "spec.startsAt",
        "required value",
    ),
    (
        "nested/deeper/wrong-version.yml",
        2,
        "Reward/default/wrong-version",
        "apiVersion",
        "must be liveops.dev/v1alpha1",
    ),
    (
        "nested/mixed.yaml",
        43,
        "Reward/games/spring-gold",
        "spec.perUserLimit",
        "greater than or equal to 1",
    ),
    (
        "schema-type.yaml",
        11,
        "Event/games/schema-type",
        "spec.maxClaims",
        "must be of type integer",
    ),
    (
        "unknown-field.yaml",
        11,
        "Event/games/unknown-field",
        "spec.colour",
        "unknown field \"colour\"",
    ),
];

#[test]
fn each_invalid_fixture_is_reported_for_its_one_mistake() {
    let dir = fixture("invalid");
    let problems = validate_dir(&dir).expect("fixtures readable");
    for (file, line, object, field, needle) in EXPECTED {
        let of_file: Vec<_> = problems.iter().filter(|p| p.file == dir.join(file)).collect();
        assert_eq!(of_file.len(), 1, "{file}: {of_file:#?}");
        let problem = of_file[0];
        assert_eq!(
            (problem.line, problem.object.as_str(), problem.field.as_str()),
            (line, object, field),
            "{problem}"
        );
        assert!(problem.message.contains(needle), "{file}: {problem}");
    }
    // The Secret, the ConfigMap, the core Event and the valid Event beside them say nothing.
    assert_eq!(problems.len(), EXPECTED.len(), "{problems:#?}");
}

#[test]
fn the_examples_and_the_catalogue_are_clean() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests/examples");
    assert_eq!(validate_dir(&examples).expect("examples readable"), []);
    assert_eq!(
        validate_dir(&fixture("catalogue")).expect("catalogue readable"),
        []
    );
}

/// Runs `kubectl liveops validate DIR` with the built plugin first on PATH.
fn kubectl_validate(dir: &Path) -> std::process::Output {
    let plugin_dir = Path::new(env!("CARGO_BIN_EXE_kubectl-liveops"))
        .parent()
        .expect("the binary has a directory");
    let path = std::env::join_paths(
        std::iter::once(plugin_dir.to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .expect("PATH joins");
    std::process::Command::new("kubectl")
        .args(["liveops", "validate"])
        .arg(dir)
        .env("PATH", path)
        .output()
        .expect("kubectl runs")
}

#[test]
fn kubectl_runs_the_plugin_and_passes_its_exit_code_on() {
    let invalid = kubectl_validate(&fixture("invalid"));
    let stdout = String::from_utf8_lossy(&invalid.stdout);
    assert_eq!(invalid.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.lines().count(), EXPECTED.len(), "{stdout}");
    let ends = fixture("invalid/ends-before-start.yaml");
    let line = format!(
        "{}:10: Event/games/ends-before-start: spec.endsAt: endsAt must be after startsAt",
        ends.display()
    );
    assert!(stdout.lines().any(|l| l == line), "{stdout}");

    let clean = kubectl_validate(&fixture("catalogue"));
    assert_eq!(clean.status.code(), Some(0));
    assert!(clean.stdout.is_empty());

    let missing = kubectl_validate(&fixture("no-such-directory"));
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}
