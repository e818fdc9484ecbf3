"""Every environment variable the chart sets is one the binary reads (clap `env = "..."` in config.rs),
so a renamed variable fails here instead of being silently ignored in a cluster."""

from __future__ import annotations

import re

import pytest

from conftest import ALL_FEATURES, REPO_ROOT, RELEASE, one, render_objects

BINARIES = {
    "api-server": REPO_ROOT / "api-server" / "src" / "config.rs",
    "operator": REPO_ROOT / "operator" / "src" / "config.rs",
    "relay": REPO_ROOT / "relay" / "src" / "config.rs",
}
# Each binary's own listen-address variable, so that one shell can run all three.
LISTEN_VARIABLE = {"api-server": "LISTEN_ADDR", "operator": "OPERATOR_LISTEN_ADDR", "relay": "RELAY_LISTEN_ADDR"}
# Set by the chart for tools inside the image, not read by the binary itself.
PASS_THROUGH = {"RUST_LOG"}


def variables_read_by(config_rs) -> set[str]:
    return set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', config_rs.read_text()))


RELAY_ON = {"relay": {"enabled": True}}
RELAY_AMQP = {"relay": {"enabled": True, "transport": "amqp", "amqp": {"existingSecret": {"name": "rabbit", "key": "uri"}}}}


@pytest.mark.parametrize("values", [RELAY_ON, ALL_FEATURES, {"operator": {"watchNamespace": "games"}, **RELAY_AMQP}],
                         ids=["defaults-with-relay", "all-features", "watch-namespace-amqp"])
@pytest.mark.parametrize("binary", sorted(BINARIES))
def test_chart_sets_only_variables_the_binary_reads(chart, binary, values):
    known = variables_read_by(BINARIES[binary])
    assert {"DATABASE_URL", LISTEN_VARIABLE[binary], "LOG_FORMAT"} <= known, f"cannot parse {BINARIES[binary]}"
    deployment = one(render_objects(chart, values), "Deployment", f"{RELEASE}-liveops-{binary}")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    set_by_chart = {e["name"] for e in container["env"]} - PASS_THROUGH
    assert set_by_chart - known == set()


@pytest.mark.parametrize("binary", sorted(BINARIES))
def test_listen_port_matches_the_container_port_and_log_format_is_a_value_the_binary_accepts(chart, binary):
    deployment = one(render_objects(chart, RELAY_ON), "Deployment", f"{RELEASE}-liveops-{binary}")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[LISTEN_VARIABLE[binary]] == f"0.0.0.0:{container['ports'][0]['containerPort']}"
    # clap ValueEnum spells `LogFormat::Json` as "json".
    assert re.search(r"enum LogFormat\s*\{[^}]*\bJson\b", BINARIES[binary].read_text())
    assert env["LOG_FORMAT"] == "json"


def test_each_binary_reads_its_own_listen_address_variable():
    for binary, variable in LISTEN_VARIABLE.items():
        others = {v for b, v in LISTEN_VARIABLE.items() if b != binary}
        known = variables_read_by(BINARIES[binary])
        assert variable in known and not (others & known), binary
