"""values.schema.json rejects typos and wrong types; the secret wiring follows the values."""

from __future__ import annotations

import base64
from pathlib import Path

import helm_python
import pytest

from conftest import ALL_FEATURES, CHART_DIR, RELEASE, by_kind, one, render_objects

API = f"{RELEASE}-liveops-api-server"
OPERATOR = f"{RELEASE}-liveops-operator"


@pytest.mark.parametrize("values", [{}, ALL_FEATURES], ids=["defaults", "all-features"])
def test_schema_accepts_the_defaults_and_every_documented_feature(chart, values):
    chart.validate_schema(values)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"apiServr": {"replicas": 2}}, "apiServr"),
        ({"apiServer": {"replica": 2}}, "replica"),
        ({"operator": {"image": {"tagg": "v1"}}}, "tagg"),
        ({"crds": {"enable": False}}, "enable"),
        ({"networkPolicy": {"apiServer": {"form": []}}}, "form"),
        ({"apiServer": {"resources": {"limits": {"cpus": "1"}}}}, "cpus"),
        ({"apiServer": {"replicas": "two"}}, "replicas"),
        ({"operator": {"replicas": -1}}, "replicas"),
        ({"crds": {"enabled": "yes"}}, "enabled"),
        ({"logFormat": "xml"}, "logFormat"),
        ({"jwt": {"secret": "too-short"}}, "secret"),
        ({"database": {"url": "mysql://db/liveops"}}, "url"),
        ({"apiServer": {"image": {"pullPolicy": "Sometimes"}}}, "pullPolicy"),
        ({"apiServer": {"image": {"digest": "latest"}}}, "digest"),
        ({"apiServer": {"rateLimit": {"loginPerMinute": "10/min"}}}, "loginPerMinute"),
        ({"apiServer": {"service": {"port": 70000}}}, "port"),
        ({"apiServer": {"podAnnotations": {"a": 1}}}, "podAnnotations"),
        ({"operator": {"watchNamespace": "Not_A_Namespace"}}, "watchNamespace"),
        ({"serviceMonitor": {"interval": "often"}}, "interval"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_schema_rejects_typos_and_wrong_types_naming_the_key(chart, values, complaint):
    with pytest.raises(helm_python.HelmValuesError) as rejected:
        chart.validate_schema(values)
    assert complaint in str(rejected.value)
    with pytest.raises(helm_python.HelmValuesError):
        chart.render(values, name=RELEASE, namespace="games")


def test_every_object_in_the_schema_is_closed(chart):
    """additionalProperties: false on every object with declared properties, so nothing is silently ignored."""
    open_objects = []

    def walk(schema, path):
        if not isinstance(schema, dict):
            return
        if "properties" in schema and schema.get("additionalProperties") is not False:
            open_objects.append(path or "(root)")
        for name, child in schema.get("properties", {}).items():
            walk(child, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            walk(schema.get(key), f"{path}[]")
        for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
            walk(alternative, path)

    walk(chart.schema, "")
    assert open_objects == []


def test_every_default_value_is_described_by_the_schema(chart):
    """A key in values.yaml that the schema forgot would make the defaults themselves invalid."""
    missing = []

    def walk(values, schema, path):
        for key, value in values.items():
            child = schema.get("properties", {}).get(key)
            if child is None:
                missing.append(f"{path}.{key}")
            elif isinstance(value, dict) and "properties" in child:
                walk(value, child, f"{path}.{key}")

    walk(chart.values, chart.schema, "")
    assert missing == []


def secret_env(objects, deployment, variable):
    container = one(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]
    entry = next(e for e in container["env"] if e["name"] == variable)
    return entry["valueFrom"]["secretKeyRef"]


def test_database_url_from_values_lands_in_a_chart_secret_both_pods_read(chart):
    url = ALL_FEATURES["database"]["url"]
    objects = render_objects(chart, {"database": {"url": url}})
    secret = one(objects, "Secret", f"{RELEASE}-liveops-database")
    assert secret["stringData"] == {"url": url}
    for deployment in (API, OPERATOR):
        assert secret_env(objects, deployment, "DATABASE_URL") == {"name": secret["metadata"]["name"], "key": "url"}


def test_database_url_from_an_existing_secret_creates_no_secret(chart):
    objects = render_objects(chart, {"database": {"existingSecret": {"name": "pg-app", "key": "uri"}}})
    assert not [s for s in by_kind(objects, "Secret") if s["metadata"]["name"].endswith("-database")]
    for deployment in (API, OPERATOR):
        assert secret_env(objects, deployment, "DATABASE_URL") == {"name": "pg-app", "key": "uri"}


def test_default_database_secret_name_is_the_one_the_notes_ask_for(chart):
    objects = render_objects(chart, {})
    assert secret_env(objects, API, "DATABASE_URL") == {"name": f"{RELEASE}-liveops-database", "key": "url"}
    assert not [s for s in by_kind(objects, "Secret") if s["metadata"]["name"].endswith("-database")]


@pytest.mark.parametrize(
    "values",
    [
        {"database": {"url": "postgres://a/b", "existingSecret": {"name": "pg"}}},
        {"jwt": {"secret": "y" * 40, "existingSecret": {"name": "jwt"}}},
        {"apiServer": {"bootstrapAdmin": {"email": "admin@example.com"}}},
        {"apiServer": {"podDisruptionBudget": {"enabled": True, "minAvailable": 1, "maxUnavailable": 1}}},
    ],
    ids=["two-database-sources", "two-jwt-sources", "admin-without-password", "pdb-both-bounds"],
)
def test_contradictory_values_fail_the_render_with_a_message(chart, values):
    with pytest.raises(helm_python.HelmRenderError) as failed:
        render_objects(chart, values)
    assert "not both" in str(failed.value) or "needs" in str(failed.value)


def test_generated_jwt_secret_is_random_long_enough_and_read_by_the_api_server_only(chart):
    values = []
    for _ in range(2):
        objects = render_objects(chart, {})
        secret = one(objects, "Secret", f"{RELEASE}-liveops-jwt")
        values.append(base64.b64decode(secret["data"]["secret"]))
        assert secret_env(objects, API, "JWT_SECRET") == {"name": f"{RELEASE}-liveops-jwt", "key": "secret"}
        operator_env = one(objects, "Deployment", OPERATOR)["spec"]["template"]["spec"]["containers"][0]["env"]
        assert "JWT_SECRET" not in {e["name"] for e in operator_env}
    assert all(len(v) >= 32 for v in values)
    assert values[0] != values[1], "offline renders have no live Secret to reuse, so each draws a fresh one"


def test_generated_jwt_secret_is_looked_up_before_generating_so_upgrades_keep_it():
    # lookup() needs a cluster; offline, the contract is checked in the template itself.
    template = (CHART_DIR / "templates" / "secrets.yaml").read_text()
    lookup = template.index('lookup "v1" "Secret" .Release.Namespace $name')
    generate = template.index("randAlphaNum 64")
    assert lookup < generate


def test_given_jwt_secret_is_stored_as_given(chart):
    objects = render_objects(chart, {"jwt": {"secret": "z" * 40}})
    secret = one(objects, "Secret", f"{RELEASE}-liveops-jwt")
    assert base64.b64decode(secret["data"]["secret"]) == b"z" * 40


def test_existing_jwt_secret_is_referenced_and_not_created(chart):
    objects = render_objects(chart, {"jwt": {"existingSecret": {"name": "signing", "key": "hs256"}}})
    assert not [s for s in by_kind(objects, "Secret") if s["metadata"]["name"].endswith("-jwt")]
    assert secret_env(objects, API, "JWT_SECRET") == {"name": "signing", "key": "hs256"}


def test_bootstrap_admin_and_rate_limits_reach_the_api_server_environment(chart):
    objects = render_objects(chart, ALL_FEATURES)
    container = one(objects, "Deployment", API)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["ADMIN_EMAIL"]["value"] == "admin@example.com"
    assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"{RELEASE}-liveops-admin", "key": "password"}
    assert one(objects, "Secret", f"{RELEASE}-liveops-admin")["stringData"] == {"password": "correct horse battery"}
    assert env["RATE_LIMIT_LOGIN_PER_MINUTE"]["value"] == "20"
    assert env["RATE_LIMIT_SIGNUP_PER_MINUTE"]["value"] == "0", "0 (limit off) must not be dropped as falsy"
    assert env["LOG_FORMAT"]["value"] == "text"
    assert env["LISTEN_ADDR"]["value"] == "0.0.0.0:8080"
    assert env["RUST_LOG"]["value"] == "info,api_server=debug"
    assert env["TRUST_FORWARDED_FOR"]["value"] == "true"
    assert env["DATABASE_MAX_CONNECTIONS"]["value"] == "10"


def test_jwt_rotation_passes_the_previous_secret_and_both_key_ids(chart):
    objects = render_objects(chart, ALL_FEATURES)
    container = one(objects, "Deployment", API)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["JWT_KEY_ID"]["value"] == "2026-11"
    assert env["JWT_PREVIOUS_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "jwt-previous", "key": "secret"}
    assert env["JWT_PREVIOUS_KEY_ID"]["value"] == "2026-10"


def test_defaults_leave_rate_limits_and_admin_to_the_binary(chart):
    container = one(render_objects(chart, {}), "Deployment", API)["spec"]["template"]["spec"]["containers"][0]
    names = {e["name"] for e in container["env"]}
    assert names == {"LISTEN_ADDR", "METRICS_ADDR", "LOG_FORMAT", "DATABASE_URL", "JWT_SECRET"}


def test_the_api_metrics_port_and_request_timeout_reach_the_binary(chart):
    values = {"apiServer": {"metricsPort": 9191, "requestTimeoutSeconds": 12}}
    container = one(render_objects(chart, values), "Deployment", API)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["METRICS_ADDR"] == "0.0.0.0:9191"
    assert env["REQUEST_TIMEOUT_SECONDS"] == "12"
    assert {"name": "metrics", "containerPort": 9191, "protocol": "TCP"} in container["ports"]
