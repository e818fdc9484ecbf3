"""The relay Deployment: off by default, broker URLs only from Secrets, transport settings reaching
its environment (its NetworkPolicy is in test_networkpolicy.py)."""

from __future__ import annotations

import helm_python
import pytest

from conftest import ALL_FEATURES, RELEASE, by_kind, one, render_objects

RELAY = f"{RELEASE}-liveops-relay"


def relay_env(objects) -> dict:
    container = one(objects, "Deployment", RELAY)["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e for e in container["env"]}


def test_the_relay_is_off_by_default(chart):
    objects = render_objects(chart, {})
    assert [o for o in objects if o["metadata"]["name"].startswith(RELAY)] == []


def test_transport_none_needs_no_broker_and_leaves_binary_defaults_alone(chart):
    objects = render_objects(chart, {"relay": {"enabled": True}})
    env = relay_env(objects)
    assert env["RELAY_TRANSPORT"]["value"] == "none"
    assert not {"NATS_URL", "AMQP_URL", "RELAY_BATCH_SIZE", "RELAY_WEBHOOK_TIMEOUT_MS"} & set(env)
    assert not [s for s in by_kind(objects, "Secret") if s["metadata"]["name"] == RELAY]
    spec = one(objects, "Deployment", RELAY)["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False


def test_an_inline_nats_url_lands_in_a_chart_secret_the_relay_reads(chart):
    objects = render_objects(chart, ALL_FEATURES)
    secret = one(objects, "Secret", RELAY)
    assert secret["stringData"] == {"nats-url": ALL_FEATURES["relay"]["nats"]["url"]}
    env = relay_env(objects)
    assert env["NATS_URL"]["valueFrom"]["secretKeyRef"] == {"name": RELAY, "key": "nats-url"}
    assert "value" not in env["NATS_URL"], "the URL carries credentials: never inline"
    expected = {"RELAY_TRANSPORT": "nats", "NATS_STREAM": "GAMES", "RELAY_SUBJECT_PREFIX": "games",
                "RELAY_CE_MODE": "structured", "RELAY_BATCH_SIZE": "200", "RELAY_MAX_ATTEMPTS": "5",
                "RELAY_RETENTION_SECONDS": "600", "RELAY_ACK_TIMEOUT_MS": "5000",
                "RELAY_WEBHOOK_CONCURRENCY": "8", "RELAY_WEBHOOK_TIMEOUT_MS": "5000",
                "RELAY_WEBHOOK_MAX_ATTEMPTS": "6", "RELAY_LISTEN_ADDR": "0.0.0.0:8082"}
    assert {name: env[name]["value"] for name in expected} == expected
    assert "AMQP_URL" not in env


def test_an_existing_amqp_secret_is_referenced_and_not_created(chart):
    values = {"relay": {"enabled": True, "transport": "amqp",
                        "amqp": {"existingSecret": {"name": "rabbit", "key": "uri"}, "exchange": "games"}}}
    objects = render_objects(chart, values)
    env = relay_env(objects)
    assert env["AMQP_URL"]["valueFrom"]["secretKeyRef"] == {"name": "rabbit", "key": "uri"}
    assert env["AMQP_EXCHANGE"]["value"] == "games"
    assert "NATS_URL" not in env
    assert not [s for s in by_kind(objects, "Secret") if s["metadata"]["name"] == RELAY]


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"transport": "nats"}, "relay.transport=nats needs relay.nats.url"),
        ({"transport": "amqp", "amqp": {"url": "amqp://a/b", "existingSecret": {"name": "rabbit", "key": "url"}}},
         "relay.amqp: set either url or existingSecret.name"),
    ],
    ids=["no-url", "two-sources"],
)
def test_a_transport_without_exactly_one_url_source_fails_the_render(chart, values, complaint):
    with pytest.raises(helm_python.HelmRenderError) as failed:
        render_objects(chart, {"relay": {"enabled": True, **values}})
    assert complaint in str(failed.value)


@pytest.mark.parametrize("values", [{"transport": "kafka"}, {"subjectPrefix": "a.>"}, {"nats": {"url": "http://x"}},
                                    {"webhooks": {"timeoutMs": "5s"}}],
                         ids=["transport", "prefix-wildcard", "nats-scheme", "timeout-type"])
def test_the_schema_rejects_bad_relay_values(chart, values):
    with pytest.raises(helm_python.HelmValuesError) as rejected:
        render_objects(chart, {"relay": {"enabled": True, **values}})
    assert "/relay/" in str(rejected.value)


def test_relay_metrics_have_a_service_and_a_service_monitor(chart):
    objects = render_objects(chart, ALL_FEATURES)
    service = one(objects, "Service", RELAY)
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8082, "targetPort": "metrics", "protocol": "TCP"}]
    monitor = one(objects, "ServiceMonitor", RELAY)
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
