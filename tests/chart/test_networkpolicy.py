"""NetworkPolicies: ingress only to each component's port; with restrictEgress, egress only to DNS,
PostgreSQL and what each component talks to (operator: the Kubernetes API; api-server: SMTP when mail
is configured; relay: its broker and webhook receivers), plus extraEgress."""

from __future__ import annotations

import helm_python
import pytest

from conftest import ALL_FEATURES, RELEASE, by_kind, render_objects

API = f"{RELEASE}-liveops-api-server"
OPERATOR = f"{RELEASE}-liveops-operator"
RELAY = f"{RELEASE}-liveops-relay"
NP = ALL_FEATURES["networkPolicy"]
DNS = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}


def tcp(*ports: int) -> list[dict]:
    return [{"port": port, "protocol": "TCP"} for port in ports]


def policies(chart, values: dict) -> dict[str, dict]:
    return {p["metadata"]["name"]: p["spec"] for p in by_kind(render_objects(chart, values), "NetworkPolicy")}


def test_network_policies_are_off_by_default(chart):
    assert by_kind(render_objects(chart, {}), "NetworkPolicy") == []


def test_every_component_gets_a_policy_selecting_only_its_own_pods(chart):
    specs = policies(chart, ALL_FEATURES)
    assert set(specs) == {API, OPERATOR, RELAY}
    for name, spec in specs.items():
        component = name.removeprefix(f"{RELEASE}-liveops-")
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == component
        assert spec["policyTypes"] == ["Ingress", "Egress"]


def test_ingress_reaches_only_the_api_port_and_the_metrics_ports(chart):
    specs = policies(chart, ALL_FEATURES)
    metrics = {"ports": [{"port": "metrics", "protocol": "TCP"}], "from": NP["metrics"]["from"]}
    assert specs[API]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}], "from": NP["apiServer"]["from"]},
                                     metrics]
    for name in (OPERATOR, RELAY):
        assert specs[name]["ingress"] == [metrics]


def test_without_peers_the_api_is_open_and_metrics_only_to_the_release_namespace(chart):
    specs = policies(chart, {"networkPolicy": {"enabled": True}})
    assert specs[API]["ingress"][0] == {"ports": [{"port": "http", "protocol": "TCP"}]}
    for name in (API, OPERATOR):
        assert specs[name]["ingress"][-1]["from"] == [{"podSelector": {}}]


def test_operator_egress_is_dns_postgresql_the_kubernetes_api_and_the_extra_rules(chart):
    egress = policies(chart, ALL_FEATURES)[OPERATOR]["egress"]
    assert egress == [
        DNS,
        {"ports": tcp(5432, 6432), "to": NP["database"]["to"]},
        {"ports": tcp(6443), "to": NP["kubernetesApi"]["to"]},
        *NP["extraEgress"],
    ]


def test_api_server_egress_adds_smtp_only_when_mail_is_configured(chart):
    egress = policies(chart, ALL_FEATURES)[API]["egress"]
    assert egress == [
        DNS,
        {"ports": tcp(5432, 6432), "to": NP["database"]["to"]},
        {"ports": tcp(587), "to": NP["apiServer"]["smtpTo"]},
        *NP["extraEgress"],
    ]
    without_mail = policies(chart, {"networkPolicy": {"enabled": True}})[API]["egress"]
    assert without_mail == [DNS, {"ports": tcp(5432)}], "no Kubernetes API, no SMTP: the API server needs neither"


def test_relay_egress_is_dns_postgresql_its_broker_and_webhook_ports(chart):
    egress = policies(chart, ALL_FEATURES)[RELAY]["egress"]
    assert egress == [
        DNS,
        {"ports": tcp(5432, 6432), "to": NP["database"]["to"]},
        {"ports": tcp(4222), "to": NP["relay"]["brokerTo"]},
        {"ports": tcp(443, 8443)},
        *NP["extraEgress"],
    ]


def test_relay_without_a_broker_gets_no_broker_rule(chart):
    egress = policies(chart, {"networkPolicy": {"enabled": True}, "relay": {"enabled": True}})[RELAY]["egress"]
    assert egress == [DNS, {"ports": tcp(5432)}, {"ports": tcp(443)}]


def test_default_egress_admits_postgresql_and_the_kubernetes_api_at_any_address(chart):
    operator = policies(chart, {"networkPolicy": {"enabled": True}})[OPERATOR]["egress"]
    assert operator == [DNS, {"ports": tcp(5432)}, {"ports": tcp(443, 6443)}]


def test_restrict_egress_off_leaves_egress_open(chart):
    specs = policies(chart, {"networkPolicy": {"enabled": True, "restrictEgress": False}, "relay": {"enabled": True}})
    for spec in specs.values():
        assert spec["policyTypes"] == ["Ingress"]
        assert "egress" not in spec


@pytest.mark.parametrize("values", [{"database": {"ports": []}}, {"kubernetesApi": {"ports": [0]}},
                                    {"egress": []}, {"database": {"to": "10.0.0.0/8"}}],
                         ids=["no-db-port", "port-zero", "old-egress-key", "peer-not-a-list"])
def test_the_schema_rejects_bad_network_policy_values(chart, values):
    with pytest.raises(helm_python.HelmValuesError) as rejected:
        chart.validate_schema({"networkPolicy": {"enabled": True, **values}})
    assert "networkPolicy" in str(rejected.value)
