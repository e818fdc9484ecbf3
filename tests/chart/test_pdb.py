"""PodDisruptionBudgets: exactly one bound applies, the user's choice wins over the default, and
setting both explicitly fails the render with a message naming the component."""

from __future__ import annotations

import helm_python
import pytest

from conftest import RELEASE, by_kind, one, render_objects

COMPONENTS = {"apiServer": f"{RELEASE}-liveops-api-server", "operator": f"{RELEASE}-liveops-operator"}


def budget(chart, component: str, pdb: dict) -> dict:
    objects = render_objects(chart, {component: {"podDisruptionBudget": {"enabled": True, **pdb}}})
    return one(objects, "PodDisruptionBudget", COMPONENTS[component])["spec"]


@pytest.mark.parametrize("component", sorted(COMPONENTS))
@pytest.mark.parametrize(
    ("pdb", "bound"),
    [
        ({}, {"maxUnavailable": 1}),
        ({"minAvailable": 1}, {"minAvailable": 1}),
        ({"minAvailable": "50%"}, {"minAvailable": "50%"}),
        ({"minAvailable": 0}, {"minAvailable": 0}),
        ({"maxUnavailable": 2}, {"maxUnavailable": 2}),
        ({"maxUnavailable": "25%"}, {"maxUnavailable": "25%"}),
        ({"minAvailable": 2, "maxUnavailable": None}, {"minAvailable": 2}),
    ],
    ids=["default", "min-only", "min-percent", "min-zero", "max-only", "max-percent", "max-nulled"],
)
def test_exactly_one_bound_applies_and_the_users_choice_wins(chart, component, pdb, bound):
    spec = budget(chart, component, pdb)
    assert {key: spec[key] for key in ("minAvailable", "maxUnavailable") if key in spec} == bound
    assert spec["selector"]["matchLabels"]["app.kubernetes.io/component"] == COMPONENTS[component].split("liveops-")[1]


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_both_bounds_set_explicitly_fail_with_a_message_naming_the_component(chart, component):
    with pytest.raises(helm_python.HelmRenderError) as failed:
        budget(chart, component, {"minAvailable": 1, "maxUnavailable": 1})
    message = str(failed.value)
    assert f"{component}.podDisruptionBudget: set minAvailable or maxUnavailable, not both" in message
    assert "minAvailable=1, maxUnavailable=1" in message


def test_a_disabled_budget_renders_nothing_even_with_bounds(chart):
    objects = render_objects(chart, {"apiServer": {"podDisruptionBudget": {"minAvailable": 1}}})
    assert by_kind(objects, "PodDisruptionBudget") == []


@pytest.mark.parametrize("bound", ["minAvailable", "maxUnavailable"])
@pytest.mark.parametrize("value", ["half", "-1", -1, 1.5])
def test_the_schema_rejects_bounds_that_are_neither_a_count_nor_a_percentage(chart, bound, value):
    with pytest.raises(helm_python.HelmValuesError) as rejected:
        chart.validate_schema({"apiServer": {"podDisruptionBudget": {"enabled": True, bound: value}}})
    assert bound in str(rejected.value)
