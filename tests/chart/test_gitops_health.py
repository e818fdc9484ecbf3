"""The GitOps health checks in docs/gitops/ (Argo CD Lua, Flux CEL) run against objects whose statuses the
operator's reconcile computed (docs/gitops/testdata/objects.json) and map them to health as documented."""

from __future__ import annotations

import json
import re

import celpy
import lupa
import pytest
import yaml

from conftest import REPO_ROOT

GITOPS = REPO_ROOT / "docs" / "gitops"
README = (REPO_ROOT / "README.md").read_text()
OBJECTS = json.loads((GITOPS / "testdata" / "objects.json").read_text())
KINDS = ["Event", "Reward", "WebhookEndpoint", "Counter", "IngestClient"]

# sample -> (Argo CD health, Flux status), as docs/gitops/README.md and flux.md promise.
EXPECTED = {
    "event-active": ("Healthy", "Current"),
    "event-suspended": ("Healthy", "Current"),
    "event-ended": ("Healthy", "Current"),
    "event-invalid": ("Degraded", "Failed"),
    "event-database-down": ("Progressing", "InProgress"),
    "event-edit-not-yet-seen": ("Progressing", "InProgress"),
    "event-no-status": ("Progressing", "InProgress"),
    "reward-ready": ("Healthy", "Current"),
    "reward-waiting-for-event": ("Progressing", "InProgress"),
    "reward-invalid": ("Degraded", "Failed"),
    "reward-event-ref-changed": ("Degraded", "Failed"),
    "webhook-ready": ("Healthy", "Current"),
    "webhook-suspended": ("Healthy", "Current"),
    "webhook-secret-not-found": ("Progressing", "InProgress"),
    "webhook-secret-invalid": ("Degraded", "Failed"),
    "webhook-disabled": ("Degraded", "Failed"),
    "counter-ready": ("Healthy", "Current"),
    "counter-waiting-for-event": ("Progressing", "InProgress"),
    "counter-aggregation-changed": ("Degraded", "Failed"),
    "ingest-client-ready": ("Healthy", "Current"),
    "ingest-client-suspended": ("Healthy", "Current"),
    "ingest-client-invalid": ("Degraded", "Failed"),
}


def argocd_scripts() -> dict[str, str]:
    config = yaml.safe_load((GITOPS / "argocd-cm.yaml").read_text())
    return {kind: config["data"][f"resource.customizations.health.liveops.dev_{kind}"] for kind in KINDS}


def argocd_health(script: str, obj: dict) -> dict:
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script)
    return {"status": result["status"], "message": result["message"]}


def flux_checks() -> dict[str, dict]:
    text = (GITOPS / "flux.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]
    kustomizations = [b for b in blocks if isinstance(b, dict) and "healthCheckExprs" in b.get("spec", {})]
    assert len(kustomizations) == 1, "flux.md shows one Kustomization with healthCheckExprs"
    return {check["kind"]: check for check in kustomizations[0]["spec"]["healthCheckExprs"]}


def cel_true(expression: str, obj: dict) -> bool:
    """Evaluates as Flux does: the object's top-level fields are the variables; an error (a field the
    object does not have yet) is not a match."""
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    activation = {key: celpy.json_to_cel(value) for key, value in obj.items()}
    try:
        result = program.evaluate(activation)
    except celpy.CELEvalError:
        return False
    if isinstance(result, celpy.CELEvalError):
        return False
    return bool(result)


def flux_status(check: dict, obj: dict) -> str:
    # kustomize-controller's order: inProgress, then failed, then current; no match stays InProgress.
    for field, status in (("inProgress", "InProgress"), ("failed", "Failed"), ("current", "Current")):
        if field in check and cel_true(check[field], obj):
            return status
    return "InProgress"


def test_every_sample_has_an_expectation():
    assert set(OBJECTS) == set(EXPECTED)


def test_every_kind_gets_the_shipped_lua_script():
    script = (GITOPS / "argocd-health.lua").read_text()
    assert argocd_scripts() == {kind: script for kind in KINDS}


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_argocd_health_of_each_sample(sample):
    obj = OBJECTS[sample]
    result = argocd_health(argocd_scripts()[obj["kind"]], obj)
    assert result["status"] == EXPECTED[sample][0], result
    assert result["message"]


def test_argocd_message_carries_the_condition_reason_and_message():
    result = argocd_health(argocd_scripts()["Event"], OBJECTS["event-invalid"])
    assert result["message"].startswith("InvalidSpec: invalid spec, edit it: spec.timeZone")
    suspended = argocd_health(argocd_scripts()["Event"], OBJECTS["event-suspended"])
    assert "Suspended (spec.suspend)" in suspended["message"]


def test_flux_checks_cover_every_kind():
    assert set(flux_checks()) == set(KINDS)
    for check in flux_checks().values():
        assert check["apiVersion"] == "liveops.dev/v1alpha1"


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_flux_status_of_each_sample(sample):
    obj = OBJECTS[sample]
    assert flux_status(flux_checks()[obj["kind"]], obj) == EXPECTED[sample][1]


def test_a_stale_generation_is_never_current_or_failed_in_either_tool():
    obj = json.loads(json.dumps(OBJECTS["event-invalid"]))
    obj["metadata"]["generation"] += 1
    check = flux_checks()["Event"]
    assert not cel_true(check["failed"], obj) and not cel_true(check["current"], obj)
    assert flux_status(check, obj) == "InProgress"
    assert argocd_health(argocd_scripts()["Event"], obj)["status"] == "Progressing"


def test_the_readme_points_at_docs_gitops():
    section = README[README.index("### GitOps"):]
    section = section[: section.index("\n### ", 1)]
    assert "docs/gitops/" in section
    assert "resource.customizations.health" not in section, "the Lua script lives in docs/gitops/ only"


def test_every_yaml_snippet_in_the_readme_cluster_section_parses():
    section = README[README.index("<!-- cluster:start -->"):README.index("<!-- cluster:end -->")]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 1  # the Argo CD snippet lives in docs/gitops/argocd-cm.yaml
    for block in blocks:
        documents = [d for d in yaml.safe_load_all(block) if d]
        assert documents and all(isinstance(d, dict) for d in documents)
