"""Shared fixtures: the chart, offline rendering with real Helm, and the value sets under test."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import helm_python
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "charts" / "liveops"
sys.path.insert(0, str(CHART_DIR / "hack"))

RELEASE = "demo"
NAMESPACE = "games"

# Every optional feature on, with secrets given inline, so each template renders its fullest form.
ALL_FEATURES = {
    "commonLabels": {"team": "live-ops"},
    "imagePullSecrets": [{"name": "regcred"}],
    "logFormat": "text",
    "database": {"url": "postgres://liveops:pw@db.games.svc:5432/liveops?sslmode=require"},
    "jwt": {"secret": "x" * 48, "keyId": "2026-11",
            "previous": {"existingSecret": {"name": "jwt-previous", "key": "secret"}, "keyId": "2026-10"}},
    "apiServer": {
        "image": {"digest": "sha256:" + "a" * 64},
        "bootstrapAdmin": {"email": "admin@example.com", "password": "correct horse battery"},
        "rateLimit": {"loginPerMinute": 20, "signupPerMinute": 0, "mailPerMinute": 5},
        "trustForwardedFor": True,
        "trustedProxies": ["10.0.0.0/8", "fd00::/8"],
        "mail": {"publicUrl": "https://api.example.com", "from": "Games <no-reply@example.com>",
                 "smtp": {"existingSecret": {"name": "smtp", "key": "url"}}},
        "databaseMaxConnections": 10,
        "extraEnv": [{"name": "RUST_LOG", "value": "info,api_server=debug"}],
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
            "hosts": [{"host": "api.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
            "tls": [{"secretName": "api-tls", "hosts": ["api.example.com"]}],
        },
        "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12,
                        "targetMemoryUtilizationPercentage": 80},
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "podAnnotations": {"example.com/scrape": "true"},
        "podLabels": {"tier": "api"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "games", "effect": "NoSchedule"}],
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "api-server"}}},
        }]}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "api-server"}}}],
        "priorityClassName": "games-critical",
        "serviceAccount": {"annotations": {"example.com/role": "api"}},
    },
    "operator": {
        "replicas": 2,
        "extraEnv": [{"name": "RUST_LOG", "value": "info"}],
        "podDisruptionBudget": {"enabled": True},
        "serviceAccount": {"annotations": {"example.com/role": "operator"}},
    },
    "relay": {
        "enabled": True,
        "replicas": 2,
        "transport": "nats",
        "subjectPrefix": "games",
        "ceMode": "structured",
        "nats": {"url": "nats://relay:pw@nats.messaging.svc:4222", "stream": "GAMES"},
        "batchSize": 200,
        "maxAttempts": 5,
        "retentionSeconds": 600,
        "ackTimeoutMs": 5000,
        "webhooks": {"concurrency": 8, "timeoutMs": 5000, "maxAttempts": 6},
        "extraEnv": [{"name": "RUST_LOG", "value": "info,relay=debug"}],
        "podAnnotations": {"example.com/scrape": "true"},
        "priorityClassName": "games-critical",
    },
    "networkPolicy": {
        "enabled": True,
        "apiServer": {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                      "smtpTo": [{"ipBlock": {"cidr": "192.0.2.25/32"}}], "smtpPorts": [587]},
        "metrics": {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]},
        "database": {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [5432, 6432]},
        "kubernetesApi": {"to": [{"ipBlock": {"cidr": "172.20.0.1/32"}}], "ports": [6443]},
        "extraEgress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tracing"}}}],
                         "ports": [{"port": 4317, "protocol": "TCP"}]}],
        "relay": {"brokerTo": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "messaging"}}}],
                  "brokerPorts": [4222], "webhookPorts": [443, 8443]},
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
    "grafanaDashboard": {"enabled": True, "labels": {"team": "live-ops"}, "annotations": {"grafana_folder": "Live ops"}},
}

VALUE_SETS = {"defaults": {}, "all-features": ALL_FEATURES}


@pytest.fixture(scope="session")
def chart():
    with helm_python.Chart.load(CHART_DIR) as loaded:
        yield loaded


def render_objects(chart, values: dict | None = None, *, namespace: str = NAMESPACE) -> list[dict]:
    """Renders the chart offline and returns every object (NOTES.txt excluded), in template order."""
    rendered = chart.render(copy.deepcopy(values or {}), name=RELEASE, namespace=namespace, is_install=True)
    objects = []
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                objects.append(document)
    return objects


def render_notes(chart, values: dict | None = None) -> str:
    rendered = chart.render(copy.deepcopy(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)
    return next(text for template, text in rendered.items() if template.endswith("NOTES.txt"))


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: list[dict], kind: str, name: str) -> dict:
    matches = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


@pytest.fixture(scope="session", params=sorted(VALUE_SETS))
def value_set(request):
    return request.param, VALUE_SETS[request.param]


@pytest.fixture(scope="session")
def rendered(chart, value_set):
    """Objects of one value set, rendered once per session."""
    name, values = value_set
    return render_objects(chart, values)
