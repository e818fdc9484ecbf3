"""Aggregated ClusterRoles give namespace users the liveops.dev kinds through the built-in view, edit
and admin roles; the operator's own RBAC stays least-privilege (no wildcards, no Secrets at all)."""

from __future__ import annotations

import pytest

from conftest import ALL_FEATURES, RELEASE, by_kind, one, render_objects

VIEW = f"{RELEASE}-liveops-view"
EDIT = f"{RELEASE}-liveops-edit"
OPERATOR = f"{RELEASE}-liveops-operator"
KINDS = {"events", "rewards", "webhookendpoints", "counters", "ingestclients"}
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-{}"


def grants(role) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def aggregated_into(role) -> set[str]:
    labels = role["metadata"]["labels"]
    return {name for name in ("view", "edit", "admin") if labels.get(AGGREGATE.format(name)) == "true"}


def test_view_role_reads_every_kind_and_aggregates_into_view_edit_and_admin(rendered):
    view = one(rendered, "ClusterRole", VIEW)
    assert aggregated_into(view) == {"view", "edit", "admin"}
    assert grants(view) == {("liveops.dev", kind, verb) for kind in KINDS for verb in ("get", "list", "watch")}


def test_edit_role_writes_every_kind_but_not_status_and_aggregates_into_edit_and_admin_only(rendered):
    edit = one(rendered, "ClusterRole", EDIT)
    assert aggregated_into(edit) == {"edit", "admin"}, "view users must not get write verbs"
    expected = {("liveops.dev", kind, verb) for kind in KINDS for verb in ("create", "update", "patch", "delete")}
    assert grants(edit) == expected
    assert not [g for g in grants(edit) if "/" in g[1]], "status and finalizers are the operator's"


def test_aggregated_roles_carry_the_release_labels_and_no_aggregation_rule(rendered):
    for name in (VIEW, EDIT):
        role = one(rendered, "ClusterRole", name)
        assert role["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
        assert "aggregationRule" not in role, "these roles feed the built-in ones; they select nothing themselves"
        assert "namespace" not in role["metadata"]


def test_the_value_turns_the_aggregated_roles_off(chart):
    objects = render_objects(chart, {"aggregatedClusterRoles": {"enabled": False}})
    names = {role["metadata"]["name"] for role in by_kind(objects, "ClusterRole")}
    assert names == {OPERATOR}


def test_aggregated_roles_stay_when_the_operator_watches_one_namespace(chart):
    objects = render_objects(chart, {"operator": {"watchNamespace": "live-ops"}})
    assert {role["metadata"]["name"] for role in by_kind(objects, "ClusterRole")} == {VIEW, EDIT}


@pytest.mark.parametrize("values", [{}, ALL_FEATURES, {"operator": {"watchNamespace": "live-ops"}}],
                         ids=["defaults", "all-features", "watch-namespace"])
def test_operator_rbac_has_no_wildcards_and_only_reads_secrets(chart, values):
    objects = render_objects(chart, values)
    roles = [role for role in by_kind(objects, "Role") + by_kind(objects, "ClusterRole")
             if role["metadata"]["name"].startswith(OPERATOR)]
    assert roles, "the operator's roles are rendered"
    for role in roles:
        for rule in role["rules"]:
            for field in ("verbs", "resources", "apiGroups", "resourceNames"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
            if any(r.startswith("secrets") for r in rule["resources"]):
                # WebhookEndpoint signing keys: read, never written.
                assert rule["resources"] == ["secrets"] and set(rule["verbs"]) <= {"get", "list", "watch"}, rule
            assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"]), rule
