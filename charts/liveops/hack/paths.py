"""Where the generators read and write, relative to the repository root."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CRDS_DIR = REPO_ROOT / "crds"
CHART_DIR = REPO_ROOT / "charts" / "liveops"
CRD_TEMPLATES_DIR = CHART_DIR / "templates" / "crds"
INSTALL_DIR = REPO_ROOT / "manifests" / "install"
INSTALL_MANIFEST = INSTALL_DIR / "liveops.yaml"
CRD_REFERENCE = REPO_ROOT / "docs" / "crd-reference.md"
