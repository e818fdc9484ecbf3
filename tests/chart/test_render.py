"""The chart renders with real Helm, passes `helm lint --strict`, and every object is valid Kubernetes."""

from __future__ import annotations

import helm_python
import kubernetes_validate
import pytest
import yaml

from conftest import ALL_FEATURES, CHART_DIR, NAMESPACE, RELEASE, by_kind, one, render_notes, render_objects

OLDEST_SUPPORTED = "1.29.0"  # Chart.yaml kubeVersion; CEL rules in the CRDs are GA there
LATEST = kubernetes_validate.latest_version()

# Kinds served by CRDs that kubernetes-validate has no schema for; checked field by field below.
THIRD_PARTY_KINDS = {"ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize("values", [{}, ALL_FEATURES], ids=["defaults", "all-features"])
@pytest.mark.parametrize("kube_version", [f"v{OLDEST_SUPPORTED}", f"v{LATEST}"])
def test_helm_lint_strict_reports_no_warnings_or_errors(values, kube_version):
    report = helm_python.lint(CHART_DIR, values, strict=True, namespace=NAMESPACE, kube_version=kube_version)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


@pytest.mark.parametrize("version", [OLDEST_SUPPORTED, LATEST])
def test_every_rendered_object_is_valid_kubernetes_in_strict_mode(rendered, version):
    checked = 0
    for obj in rendered:
        if obj["kind"] in THIRD_PARTY_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {error.message}")
        checked += 1
    assert checked >= 8


def test_default_render_has_the_core_objects_and_no_optional_ones(chart):
    kinds = sorted({obj["kind"] for obj in render_objects(chart, {})})
    assert kinds == sorted({
        "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "Secret",
        "Service", "ServiceAccount",
    })


def test_all_features_render_every_optional_object(chart):
    objects = render_objects(chart, ALL_FEATURES)
    counts = {kind: len(by_kind(objects, kind)) for kind in {o["kind"] for o in objects}}
    assert counts["HorizontalPodAutoscaler"] == 1
    assert counts["Ingress"] == 1
    assert counts["PodDisruptionBudget"] == 2
    assert counts["NetworkPolicy"] == 3  # api-server, operator, relay
    assert counts["ServiceMonitor"] == 3
    assert counts["PrometheusRule"] == 1
    assert counts["ConfigMap"] == 1  # the Grafana dashboard
    assert counts["Secret"] == 4  # database URL, JWT secret, bootstrap admin password, NATS URL
    assert counts["Role"] == 1 and counts["RoleBinding"] == 1  # leader election leases


def test_every_object_is_labelled_and_namespaced_to_the_release(rendered):
    for obj in rendered:
        labels = obj["metadata"].get("labels", {})
        if obj["kind"] == "CustomResourceDefinition":
            continue  # kept exactly as generated in crds/
        assert labels["app.kubernetes.io/instance"] == RELEASE, obj["metadata"]["name"]
        assert labels["app.kubernetes.io/part-of"] == "liveops"
        if obj["kind"] not in {"ClusterRole", "ClusterRoleBinding"}:
            assert obj["metadata"]["namespace"] == NAMESPACE, f"{obj['kind']}/{obj['metadata']['name']}"


def test_service_monitors_scrape_the_metrics_endpoints_of_both_services(chart):
    objects = render_objects(chart, ALL_FEATURES)
    services = {s["metadata"]["name"]: s for s in by_kind(objects, "Service")}
    for monitor in by_kind(objects, "ServiceMonitor"):
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        assert set(monitor["spec"]) == {"namespaceSelector", "selector", "endpoints"}
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        service = services[monitor["metadata"]["name"]]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        port_names = {p["name"] for p in service["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert set(endpoint) == {"port", "path", "interval", "scrapeTimeout"}
            assert endpoint["port"] in port_names and endpoint["path"] == "/metrics"
            assert endpoint["port"] == "metrics", "never the API port"


def test_ingress_routes_every_host_to_the_api_service_port(chart):
    objects = render_objects(chart, ALL_FEATURES)
    ingress = by_kind(objects, "Ingress")[0]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "api-tls", "hosts": ["api.example.com"]}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": f"{RELEASE}-liveops-api-server", "port": {"name": "http"}}


def test_autoscaling_removes_fixed_replicas_from_the_api_deployment(chart):
    objects = render_objects(chart, ALL_FEATURES)
    deployment = one(objects, "Deployment", f"{RELEASE}-liveops-api-server")
    assert "replicas" not in deployment["spec"]
    hpa = by_kind(objects, "HorizontalPodAutoscaler")[0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}


def test_notes_tell_the_user_to_create_the_database_secret_when_none_is_configured(chart):
    notes = render_notes(chart, {})
    assert f"create secret generic {RELEASE}-liveops-database" in notes
    assert "kubectl get liveops" in notes
    assert "rollout status" in notes


def test_notes_name_the_configured_secret_and_ingress_host_when_given(chart):
    notes = render_notes(chart, ALL_FEATURES)
    assert "create secret generic" not in notes
    assert "https://api.example.com/docs" in notes
    assert "No bootstrap ADMIN" not in notes


def test_longest_release_name_keeps_every_name_and_label_within_kubernetes_limits(chart):
    release = "r" * 53  # Helm's maximum release name length
    rendered = chart.render(ALL_FEATURES, name=release, namespace=NAMESPACE, is_install=True)
    for template, text in rendered.items():
        if template.endswith("NOTES.txt"):
            continue
        for obj in filter(None, yaml.safe_load_all(text)):
            if obj["kind"] == "CustomResourceDefinition":
                continue
            # Services (and the Deployments their pods' names derive from) are DNS labels; RBAC names may be longer.
            limit = 63 if obj["kind"] in {"Service", "Deployment", "Ingress", "ServiceAccount"} else 253
            assert len(obj["metadata"]["name"]) <= limit, obj["metadata"]["name"]
            for value in obj["metadata"].get("labels", {}).values():
                assert len(str(value)) <= 63, value
