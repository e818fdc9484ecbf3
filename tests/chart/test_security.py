"""Restricted Pod Security on every pod, probes and resources, and least-privilege RBAC."""

from __future__ import annotations

import pytest

from conftest import ALL_FEATURES, NAMESPACE, RELEASE, by_kind, one, render_objects

API = f"{RELEASE}-liveops-api-server"
OPERATOR = f"{RELEASE}-liveops-operator"


def pod_specs(objects):
    return [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in by_kind(objects, "Deployment")]


def env_of(container) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


def test_every_pod_meets_pod_security_restricted(rendered, value_set):
    specs = pod_specs(rendered)
    relay = {f"{RELEASE}-liveops-relay"} if value_set[1].get("relay", {}).get("enabled") else set()
    assert {name for name, _ in specs} == {API, OPERATOR} | relay
    for name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] == 65532, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert "hostNetwork" not in spec and "hostPID" not in spec and "hostIPC" not in spec
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["capabilities"] == {"drop": ["ALL"]}, name
            assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == 65532, name
            assert ctx.get("privileged", False) is False, name
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= {"emptyDir", "secret", "configMap", "projected"}, volume


def test_every_container_has_requests_limits_and_http_probes(rendered):
    for name, spec in pod_specs(rendered):
        for container in spec["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert {"cpu", "memory"} <= set(resources["limits"]), name
            port_names = {p["name"] for p in container["ports"]}
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                assert container[probe]["httpGet"]["port"] in port_names, (name, probe)


def test_api_server_pod_carries_no_service_account_token(rendered):
    spec = dict(pod_specs(rendered))[API]
    assert spec["automountServiceAccountToken"] is False
    account = one(rendered, "ServiceAccount", spec["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False


def test_api_server_has_no_role_or_binding_at_all(rendered):
    for binding in by_kind(rendered, "RoleBinding") + by_kind(rendered, "ClusterRoleBinding"):
        for subject in binding["subjects"]:
            assert subject["name"] != API, binding["metadata"]["name"]
    for role in by_kind(rendered, "Role") + by_kind(rendered, "ClusterRole"):
        assert "api-server" not in role["metadata"]["name"]


def operator_roles(objects):
    """The operator's own Roles/ClusterRoles (the aggregated user-facing roles are checked in test_rbac.py)."""
    return [role for role in by_kind(objects, "Role") + by_kind(objects, "ClusterRole")
            if role["metadata"]["name"].startswith(OPERATOR)]


def test_no_rbac_rule_uses_wildcards(rendered):
    assert operator_roles(rendered)
    for role in operator_roles(rendered):
        for rule in role["rules"]:
            for field in ("verbs", "resources", "apiGroups", "resourceNames"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
            assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"]), rule


def rule_set(role) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


LIVEOPS_RESOURCES = ("events", "rewards", "webhookendpoints", "counters", "ingestclients")

EXPECTED_OPERATOR_RULES = {
    *{
        ("liveops.dev", r, v)
        for r in LIVEOPS_RESOURCES
        for v in ("get", "list", "watch", "patch")
    },
    *{("liveops.dev", f"{r}/status", "patch") for r in LIVEOPS_RESOURCES},
    *{("liveops.dev", f"{r}/finalizers", "update") for r in LIVEOPS_RESOURCES},
    # WebhookEndpoint signing secrets: read-only, never written.
    *{("", "secrets", v) for v in ("get", "list", "watch")},
    ("events.k8s.io", "events", "create"),
    ("events.k8s.io", "events", "patch"),
}


def test_operator_cluster_role_grants_exactly_what_it_reconciles(chart):
    objects = render_objects(chart, {})
    role = one(objects, "ClusterRole", OPERATOR)
    assert rule_set(role) == EXPECTED_OPERATOR_RULES
    binding = one(objects, "ClusterRoleBinding", OPERATOR)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": OPERATOR}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": OPERATOR, "namespace": NAMESPACE}]
    assert by_kind(objects, "Role") == [], "no lease Role without leader election"


def test_watch_namespace_swaps_the_cluster_role_for_a_role_in_that_namespace(chart):
    objects = render_objects(chart, {"operator": {"watchNamespace": "live-ops"}})
    assert [r for r in by_kind(objects, "ClusterRole") if r["metadata"]["name"] == OPERATOR] == []
    assert by_kind(objects, "ClusterRoleBinding") == []
    role = one(objects, "Role", OPERATOR)
    assert role["metadata"]["namespace"] == "live-ops"
    assert rule_set(role) == EXPECTED_OPERATOR_RULES
    binding = one(objects, "RoleBinding", OPERATOR)
    assert binding["metadata"]["namespace"] == "live-ops"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": OPERATOR, "namespace": NAMESPACE}]
    container = dict(pod_specs(objects))[OPERATOR]["containers"][0]
    assert env_of(container)["WATCH_NAMESPACE"]["value"] == "live-ops"


@pytest.mark.parametrize(
    ("operator_values", "electing"),
    [({}, False), ({"replicas": 1, "leaderElection": {"enabled": True}}, True), ({"replicas": 2}, True),
     ({"replicas": 3}, True)],
    ids=["one-replica", "forced-on", "two-replicas", "three-replicas"],
)
def test_leader_election_follows_replicas_with_lease_rbac_only_when_electing(chart, operator_values, electing):
    objects = render_objects(chart, {"operator": operator_values})
    deployment = one(objects, "Deployment", OPERATOR)
    env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
    assert env["LEADER_ELECTION"]["value"] == ("true" if electing else "false")
    assert env["LEASE_NAME"]["value"] == OPERATOR
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    # Without a leader, a rolling update would briefly run two reconcilers.
    assert deployment["spec"]["strategy"]["type"] == ("RollingUpdate" if electing else "Recreate")
    roles = by_kind(objects, "Role")
    if not electing:
        assert roles == []
        return
    lease_role = one(objects, "Role", f"{OPERATOR}-leader-election")
    assert lease_role["metadata"]["namespace"] == NAMESPACE
    assert rule_set(lease_role) == {("coordination.k8s.io", "leases", v) for v in ("create", "get", "update", "patch")}
    for rule in lease_role["rules"]:
        if rule["verbs"] != ["create"]:
            assert rule["resourceNames"] == [OPERATOR], "get/update/patch only on the operator's own Lease"


def test_images_default_to_the_app_version_and_a_digest_pins_them(chart):
    objects = render_objects(chart, ALL_FEATURES)
    images = {name: spec["containers"][0]["image"] for name, spec in pod_specs(objects)}
    assert images[API] == "liveops/api-server@sha256:" + "a" * 64
    assert images[OPERATOR] == "liveops/operator:0.1.0"
    pulls = {name: spec["imagePullSecrets"] for name, spec in pod_specs(objects)}
    assert pulls[API] == pulls[OPERATOR] == [{"name": "regcred"}]
