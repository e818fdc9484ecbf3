"""The Argo CD health check printed in the README is valid Lua and maps conditions to health as documented."""

from __future__ import annotations

import re

import lupa
import pytest
import yaml

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def argocd_config() -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    configs = [yaml.safe_load(b) for b in blocks if "resource.customizations.health.liveops.dev_Event" in b]
    assert len(configs) == 1, "README must show one argocd-cm health snippet"
    return configs[0]["data"]


def health(script: str, obj: dict) -> dict:
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script)
    return {"status": result["status"], "message": result["message"]}


def with_ready(status: str, reason: str, generation: int = 2, observed: int = 2) -> dict:
    return {
        "metadata": {"name": "seven-day-login", "generation": generation},
        "status": {
            "observedGeneration": observed,
            "phase": "Active",
            "conditions": [{"type": "Ready", "status": status, "reason": reason, "message": f"{reason} message"}],
        },
    }


def test_every_kind_gets_the_same_health_script():
    data = argocd_config()
    scripts = {data[f"resource.customizations.health.liveops.dev_{kind}"] for kind in ("Event", "Reward", "WebhookEndpoint")}
    assert len(scripts) == 1


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (with_ready("True", "Synced"), "Healthy"),
        (with_ready("False", "InvalidSpec"), "Degraded"),
        (with_ready("False", "EventNotFound"), "Degraded"),
        (with_ready("False", "Disabled"), "Degraded"),
        (with_ready("False", "SecretNotFound"), "Degraded"),
        (with_ready("False", "SecretInvalid"), "Degraded"),
        (with_ready("False", "Suspended"), "Suspended"),
        (with_ready("False", "DatabaseUnavailable"), "Progressing"),
        (with_ready("True", "Synced", generation=3, observed=2), "Progressing"),
        ({"metadata": {"name": "new", "generation": 1}}, "Progressing"),
        ({"metadata": {"name": "new", "generation": 1}, "status": {"conditions": []}}, "Progressing"),
    ],
    ids=["ready", "invalid-spec", "event-not-found", "webhook-gone", "secret-missing", "secret-invalid",
         "webhook-suspended", "database-down", "stale-generation", "no-status", "no-conditions"],
)
def test_health_follows_the_ready_condition_and_observed_generation(obj, expected):
    result = health(argocd_config()["resource.customizations.health.liveops.dev_Event"], obj)
    assert result["status"] == expected
    assert result["message"]


def test_every_yaml_snippet_in_the_readme_cluster_section_parses():
    section = README[README.index("<!-- cluster:start -->"):README.index("<!-- cluster:end -->")]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        documents = [d for d in yaml.safe_load_all(block) if d]
        assert documents and all(isinstance(d, dict) for d in documents)
