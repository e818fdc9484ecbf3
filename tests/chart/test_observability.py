"""ServiceMonitors, the PrometheusRule and the Grafana dashboard: rendered behind their values, valid
YAML/JSON and PromQL, and every metric they use is in docs/metrics.md, the contract with the binaries;
rows marked emitted there are registered in the Rust source, rows marked "to be emitted" are not yet."""

from __future__ import annotations

import json
import re
import tomllib

import promql_parser
import pytest

from conftest import ALL_FEATURES, NAMESPACE, RELEASE, REPO_ROOT, by_kind, one, render_objects

METRICS_DOC = REPO_ROOT / "docs" / "metrics.md"
OBSERVED = ALL_FEATURES  # ServiceMonitors, the PrometheusRule and the dashboard are all on there
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
# What the issue asks the dashboard to show, by metric.
BUSINESS_METRICS = {"liveops_claims_total", "liveops_reward_stock_remaining", "liveops_operator_objects",
                    "liveops_event_transition_lag_seconds"}


def contract() -> dict[str, dict[str, str]]:
    """docs/metrics.md's metrics table: name -> {type, labels, binary, status}."""
    rows = {}
    for line in METRICS_DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and (name := re.fullmatch(r"`([a-z_:]+)`", cells[0])):
            rows[name.group(1)] = {"type": cells[1], "labels": cells[2], "binary": cells[3], "status": cells[4]}
    return rows


def metric_names(expr: str) -> set[str]:
    """Names of every series an expression selects, histogram suffixes folded into the histogram's name."""
    names = set()

    def walk(node):
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)
        for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
            child = getattr(node, attribute, None)
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
        for argument in getattr(node, "args", None) or []:
            walk(argument)

    walk(promql_parser.parse(expr))
    assert names, f"no metric in {expr!r}"
    histograms = {name for name, row in contract().items() if row["type"] == "histogram"}
    folded = set()
    for name in names:
        base = next((name.removesuffix(s) for s in HISTOGRAM_SERIES if name.removesuffix(s) in histograms), name)
        folded.add(base)
    return folded


def rust_string_literals() -> set[str]:
    """Every lower-case string literal of the workspace, and each prefixed by the
    registry prefixes of its crate (a collector in one file, the registry in another)."""
    members = tomllib.loads((REPO_ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    literals = set()
    prefixed = set()
    for member in members:
        texts = [source.read_text() for source in (REPO_ROOT / member / "src").rglob("*.rs")]
        found = set().union(*(re.findall(r'"([a-z][a-z0-9_]*)"', text) for text in texts))
        literals |= found
        roots = [root for text in texts for root in re.findall(r'Registry::with_prefix\("([a-z0-9_]+)"\)', text)]
        subs = [sub for text in texts for sub in re.findall(r'sub_registry_with_prefix\("([a-z0-9_]+)"\)', text)]
        for prefix in roots + [f"{root}_{sub}" for root in roots for sub in subs]:
            prefixed |= {f"{prefix}_{name}" for name in found}
    return literals | prefixed


def test_the_contract_table_is_well_formed():
    rows = contract()
    assert len(rows) >= 20
    for name, row in rows.items():
        assert name.startswith("liveops_"), name
        assert row["type"] in {"counter", "gauge", "histogram"}, name
        assert (row["type"] == "counter") == name.endswith("_total"), f"{name}: counters and only counters end in _total"
        assert row["status"] in {"emitted", "to be emitted"}, name
        assert set(re.split(r",\s*", row["binary"])) <= {"api-server", "operator", "relay"}, name
        if row["status"] == "to be emitted":
            assert name.startswith("liveops_"), f"{name}: new metrics carry the liveops_ prefix"


def test_emitted_metrics_are_registered_in_the_source_and_the_others_not_yet():
    literals = rust_string_literals()
    for name, row in contract().items():
        registered = name in literals or name.removesuffix("_total") in literals
        if row["status"] == "emitted":
            assert registered, f"{name} is marked emitted but no binary registers it"
        else:
            assert not registered, f"{name} is registered now: mark it emitted in docs/metrics.md"


def test_the_business_metrics_are_in_the_contract():
    assert BUSINESS_METRICS <= set(contract())


def test_monitoring_objects_are_off_by_default(chart):
    objects = render_objects(chart, {})
    assert by_kind(objects, "ServiceMonitor") == by_kind(objects, "PrometheusRule") == []
    assert by_kind(objects, "ConfigMap") == []


def test_service_monitors_cover_every_component_with_metrics(chart):
    objects = render_objects(chart, OBSERVED)
    monitors = {m["metadata"]["name"] for m in by_kind(objects, "ServiceMonitor")}
    assert monitors == {f"{RELEASE}-liveops-{c}" for c in ("api-server", "operator", "relay")}


@pytest.fixture(scope="module")
def prometheus_rule(chart):
    return one(render_objects(chart, OBSERVED), "PrometheusRule", f"{RELEASE}-liveops")


def alerts(rule) -> dict[str, dict]:
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


def test_prometheus_rule_has_the_three_alerts_with_severity_summary_and_labels(prometheus_rule):
    assert prometheus_rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert prometheus_rule["metadata"]["namespace"] == NAMESPACE
    assert prometheus_rule["metadata"]["labels"]["release"] == "prometheus"
    rules = alerts(prometheus_rule)
    assert set(rules) == {"LiveopsEventTransitionLagHigh", "LiveopsClaimErrorRateHigh", "LiveopsDatabaseDown"}
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert re.fullmatch(r"[0-9]+[smh]", rule["for"]), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_alert_expressions_parse_are_scoped_to_the_namespace_and_use_contract_metrics(prometheus_rule):
    rows = contract()
    expected = {"LiveopsEventTransitionLagHigh": {"liveops_event_transition_lag_seconds"},
                "LiveopsClaimErrorRateHigh": {"liveops_http_requests_total"},
                "LiveopsDatabaseDown": {"liveops_database_up"}}
    for name, rule in alerts(prometheus_rule).items():
        names = metric_names(rule["expr"])
        assert names == expected[name], name
        assert names <= set(rows), f"{name} uses metrics missing from docs/metrics.md: {names - set(rows)}"
        assert f'namespace="{NAMESPACE}"' in rule["expr"], name


def test_alert_thresholds_and_durations_follow_the_values(chart):
    values = {"prometheusRule": {"enabled": True, "transitionLag": {"seconds": 30, "for": "15m"},
                                 "claimErrors": {"ratio": 0.2, "severity": "warning"},
                                 "databaseDown": {"for": "30s"}}}
    rules = alerts(one(render_objects(chart, values), "PrometheusRule", f"{RELEASE}-liveops"))
    lag = rules["LiveopsEventTransitionLagHigh"]
    assert lag["expr"].endswith("> 30") and lag["for"] == "15m"
    claims = rules["LiveopsClaimErrorRateHigh"]
    assert claims["expr"].endswith("> 0.2") and claims["labels"]["severity"] == "warning"
    assert 'route="/claims/{rewardId}/claim"' in claims["expr"] and 'status=~"5.."' in claims["expr"]
    assert rules["LiveopsDatabaseDown"]["for"] == "30s"


def test_alert_annotations_keep_prometheus_templates_for_prometheus(prometheus_rule):
    rules = alerts(prometheus_rule)
    assert "{{ $value | humanizePercentage }}" in rules["LiveopsClaimErrorRateHigh"]["annotations"]["description"]
    assert "{{ $labels.job }}" in rules["LiveopsDatabaseDown"]["annotations"]["summary"]


@pytest.fixture(scope="module")
def dashboard_config_map(chart):
    return one(render_objects(chart, OBSERVED), "ConfigMap", f"{RELEASE}-liveops-dashboard")


def dashboard_exprs(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_dashboard_config_map_is_labelled_for_the_grafana_sidecar(dashboard_config_map):
    metadata = dashboard_config_map["metadata"]
    assert metadata["labels"]["grafana_dashboard"] == "1"
    assert metadata["labels"]["team"] == "live-ops"
    assert metadata["annotations"] == {"grafana_folder": "Live ops"}
    assert metadata["namespace"] == NAMESPACE
    assert list(dashboard_config_map["data"]) == ["liveops.json"]


def test_dashboard_is_valid_json_with_unique_panel_ids_and_a_grid_that_fits(dashboard_config_map):
    dashboard = json.loads(dashboard_config_map["data"]["liveops.json"])
    assert dashboard["uid"] == "liveops-overview" and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"datasource", "namespace"}


def test_dashboard_queries_parse_and_use_contract_metrics_only(dashboard_config_map):
    dashboard = json.loads(dashboard_config_map["data"]["liveops.json"])
    rows = contract()
    used = set()
    for expr in dashboard_exprs(dashboard):
        assert 'namespace="$namespace"' in expr, expr
        # Grafana's variables are not PromQL; give them values before parsing.
        names = metric_names(expr.replace("$__rate_interval", "5m").replace("$namespace", NAMESPACE))
        assert names <= set(rows), f"{expr}: not in docs/metrics.md: {names - set(rows)}"
        used |= names
    assert BUSINESS_METRICS <= used, "claims by outcome and reason, stock, events by phase, transition lag"
    alert_metrics = {"liveops_event_transition_lag_seconds", "liveops_http_requests_total", "liveops_database_up"}
    assert alert_metrics <= used, "every alert has a panel to look at"


def test_an_invalid_expression_is_caught_by_the_parser():
    with pytest.raises(ValueError):
        metric_names("sum(rate(liveops_claims_total[5m])")
