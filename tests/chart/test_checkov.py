"""checkov (run offline against the rendered chart) reports no failure: each finding is either fixed
or skipped on the object with a written reason, listed in the chart README ("Security scan decisions").
Skips are rendered only while their finding applies, so turning a feature on makes the check pass for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ALL_FEATURES, CHART_DIR, RELEASE, by_kind, render_objects

DIGEST = "sha256:" + "b" * 64
# Value sets scanned: the defaults, every feature, and every finding fixed instead of skipped.
SCANNED = {
    "defaults": {},
    "all-features": ALL_FEATURES,
    "relay-on": {"relay": {"enabled": True}},
    "hardened": {
        "apiServer": {"image": {"digest": DIGEST}},
        "operator": {"image": {"digest": DIGEST}},
        "relay": {"enabled": True, "image": {"digest": DIGEST}},
        "networkPolicy": {"enabled": True},
    },
}
SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip\d+$")
SKIP_VALUE = re.compile(r"^(CKV2?_K8S_\d+)=(.+)$")


def readme_decisions() -> dict[str, str]:
    """Check id -> the README's line about it, from the "Security scan decisions" section."""
    text = (CHART_DIR / "README.md").read_text()
    section = text.split("## Security scan decisions", 1)[1].split("\n## ", 1)[0]
    return {match.group(1): line for line in section.splitlines() if (match := re.search(r"`(CKV2?_K8S_\d+)`", line))}


def skips_of(obj: dict) -> dict[str, str]:
    annotations = obj["metadata"].get("annotations") or {}
    skips = {}
    for key, value in annotations.items():
        if SKIP_ANNOTATION.match(key):
            match = SKIP_VALUE.match(value)
            assert match, f"{obj['metadata']['name']}: {key} is not CHECK_ID=reason: {value!r}"
            skips[match.group(1)] = match.group(2)
    return skips


@pytest.fixture(scope="module")
def checkov_report(chart, tmp_path_factory) -> dict:
    checkov = os.environ.get("LIVEOPS_CHECKOV", "")
    assert checkov and Path(checkov).is_file(), "run through tests/chart/run.sh, which installs checkov in .venv-checkov/"
    directory = tmp_path_factory.mktemp("checkov")
    for name, values in SCANNED.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump_all(render_objects(chart, values)))
    # --skip-download: no network (no guidelines or policy download); the scan is fully local.
    result = subprocess.run(
        [checkov, "--directory", str(directory), "--framework", "kubernetes", "--skip-download",
         "--output", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def test_checkov_reports_no_failure_on_any_scanned_value_set(checkov_report):
    summary = checkov_report["summary"]
    failures = [f"{f['check_id']} {f['resource']} ({f['file_path']})" for f in checkov_report["results"]["failed_checks"]]
    assert failures == [] and summary["failed"] == 0
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 400, "checkov scanned every value set"
    scanned_files = {Path(c["file_path"]).stem for c in checkov_report["results"]["passed_checks"]}
    assert scanned_files == set(SCANNED)


def test_every_skip_checkov_honoured_has_a_reason_documented_in_the_readme(checkov_report):
    decisions = readme_decisions()
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped, "the defaults skip some checks"
    for check in skipped:
        reason = check["check_result"].get("suppress_comment") or ""
        assert len(reason) >= 40, f"{check['check_id']} on {check['resource']}: reason too short: {reason!r}"
        assert check["check_id"] in decisions, f"{check['check_id']} skipped but not in the chart README"


def test_the_hardened_value_set_needs_only_the_skips_that_cannot_be_fixed_by_values(checkov_report):
    skipped = {(Path(c["file_path"]).stem, c["check_id"]) for c in checkov_report["results"]["skipped_checks"]}
    assert {check for stem, check in skipped if stem == "hardened"} == {"CKV_K8S_35", "CKV_K8S_38"}


@pytest.mark.parametrize("name", sorted(SCANNED))
def test_each_skip_annotation_names_a_check_with_a_reason_and_a_readme_entry(chart, name):
    decisions = readme_decisions()
    for obj in render_objects(chart, SCANNED[name]):
        for check, reason in skips_of(obj).items():
            assert len(reason) >= 40, (obj["metadata"]["name"], check, reason)
            assert check in decisions, f"{check} on {obj['metadata']['name']} is not in the chart README"


def test_skips_disappear_when_their_finding_is_fixed(chart):
    def skips(values):
        return {d["metadata"]["name"]: set(skips_of(d)) for d in by_kind(render_objects(chart, values), "Deployment")}

    api, operator, relay = (f"{RELEASE}-liveops-{c}" for c in ("api-server", "operator", "relay"))
    default = skips({"relay": {"enabled": True}})
    assert default[operator] == {"CKV_K8S_43", "CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_38", "CKV2_K8S_6"}
    assert default[api] == default[relay] == {"CKV_K8S_43", "CKV_K8S_15", "CKV_K8S_35", "CKV2_K8S_6"}
    pulled_always = skips({"apiServer": {"image": {"pullPolicy": "Always"}}})[api]
    assert "CKV_K8S_15" not in pulled_always and "CKV_K8S_43" in pulled_always
    fixed = skips(SCANNED["hardened"])
    assert fixed[operator] == {"CKV_K8S_35", "CKV_K8S_38"}
    assert fixed[api] == fixed[relay] == {"CKV_K8S_35"}


def test_the_readme_documents_only_decisions_the_chart_makes(chart):
    rendered = set()
    for values in SCANNED.values():
        for obj in render_objects(chart, values):
            rendered |= set(skips_of(obj))
    assert set(readme_decisions()) == rendered
