#!/usr/bin/env bash
# Chart, install-manifest and generated-docs tests, without a cluster.
#   tests/chart/run.sh                 # set up .venv/ and .venv-checkov/ (once) and run pytest
#   tests/chart/run.sh --regenerate    # rewrite chart CRD templates, manifests/install/, docs/crd-reference.md
#   tests/chart/run.sh -k schema       # extra arguments go to pytest
set -euo pipefail
repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo_root"

# ensure_venv DIR REQUIREMENTS: create the venv once, reinstall only when the requirements changed.
ensure_venv() {
  local venv="$1" requirements="$2"
  local stamp="$venv/.requirements.sha256"
  local wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" >"$stamp"
  fi
}

venv="$repo_root/.venv"
ensure_venv "$venv" tests/chart/requirements.txt

if [[ "${1:-}" == "--regenerate" ]]; then
  exec "$venv/bin/python" charts/liveops/hack/regenerate.py
fi
# checkov pins packaging<24, which pytest 9 cannot use: it gets a venv of its own, run as a CLI.
ensure_venv "$repo_root/.venv-checkov" tests/chart/requirements-checkov.txt
export LIVEOPS_CHECKOV="$repo_root/.venv-checkov/bin/checkov"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/chart "$@"
