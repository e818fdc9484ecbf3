"""Turns the generated CRDs in crds/ into chart templates gated by crds.enabled.

Helm's own crds/ folder installs CRDs once and never upgrades them, so the
chart ships them as templates instead, annotated `helm.sh/resource-policy:
keep` so that `helm uninstall` never deletes them (and with them every Event
and Reward). The YAML text is kept as generated; only the annotation is
inserted, and template delimiters in descriptions are escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from paths import CRDS_DIR, CRD_TEMPLATES_DIR

KEEP_ANNOTATION = "helm.sh/resource-policy"
HEADER = (
    "{{{{- /* GENERATED from {source} by charts/liveops/hack/regenerate.py; do not edit. */}}}}\n"
    "{{{{- if .Values.crds.enabled }}}}\n"
)
FOOTER = "{{- end }}\n"


def crd_documents(crds_dir: Path = CRDS_DIR) -> list[tuple[Path, str, dict]]:
    """Every CustomResourceDefinition in crds/*.yaml as (file, text, parsed), sorted by name."""
    found = []
    for path in sorted(crds_dir.glob("*.yaml")):
        for text in split_documents(path.read_text()):
            parsed = yaml.safe_load(text)
            if not parsed:
                continue
            if parsed.get("kind") != "CustomResourceDefinition":
                raise ValueError(f"{path}: expected only CustomResourceDefinitions, got {parsed.get('kind')}")
            found.append((path, text, parsed))
    return sorted(found, key=lambda item: item[2]["metadata"]["name"])


def split_documents(text: str) -> list[str]:
    """Splits a multi-document YAML text on `---` lines, keeping each document's text as written."""
    documents, current = [], []
    for line in text.splitlines(keepends=True):
        if re.match(r"^---\s*$", line):
            documents.append("".join(current))
            current = []
        else:
            current.append(line)
    documents.append("".join(current))
    return [doc for doc in documents if doc.strip() and yaml.safe_load(doc) is not None]


def with_keep_annotation(text: str) -> str:
    """Inserts `helm.sh/resource-policy: keep` under the top-level metadata, preserving the rest."""
    lines = text.splitlines(keepends=True)
    try:
        meta = next(i for i, line in enumerate(lines) if re.match(r"^metadata:\s*$", line))
    except StopIteration as missing:
        raise ValueError("CRD without a block-style top-level `metadata:`") from missing
    child = next((line for line in lines[meta + 1 :] if line.strip() and not line.lstrip().startswith("#")), "")
    indent = re.match(r"^( *)", child).group(1) or "  "
    for i in range(meta + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line.startswith(" "):
            break
        if re.match(rf"^{indent}annotations:\s*$", line):
            lines.insert(i + 1, f"{indent}{indent}{KEEP_ANNOTATION}: keep\n")
            return "".join(lines)
    lines.insert(meta + 1, f"{indent}annotations:\n{indent}{indent}{KEEP_ANNOTATION}: keep\n")
    return "".join(lines)


def escape_template_delimiters(text: str) -> str:
    """Descriptions may contain `{{`; Helm must print it, not evaluate it."""
    return text.replace("{{", '{{ "{{" }}')


def render_templates(crds_dir: Path = CRDS_DIR, templates_dir: Path = CRD_TEMPLATES_DIR) -> dict[Path, str]:
    """The template files the chart should hold, keyed by path."""
    templates = {}
    for source, text, parsed in crd_documents(crds_dir):
        body = escape_template_delimiters(with_keep_annotation(text))
        if not body.endswith("\n"):
            body += "\n"
        header = HEADER.format(source=f"crds/{source.name}")
        templates[templates_dir / f"{parsed['metadata']['name']}.yaml"] = header + body + FOOTER
    return templates


def write(crds_dir: Path = CRDS_DIR, templates_dir: Path = CRD_TEMPLATES_DIR) -> list[Path]:
    """Writes the templates and removes stale ones; returns what it wrote."""
    wanted = render_templates(crds_dir, templates_dir)
    templates_dir.mkdir(parents=True, exist_ok=True)
    for stale in set(templates_dir.glob("*.yaml")) - set(wanted):
        stale.unlink()
    for path, content in wanted.items():
        path.write_text(content)
    return sorted(wanted)
