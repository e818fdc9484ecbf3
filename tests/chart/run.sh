#!/usr/bin/env bash
# Chart, install-manifest and generated-docs tests, without a cluster.
#   tests/chart/run.sh                 # set up .venv/ (once) and run pytest
#   tests/chart/run.sh --regenerate    # rewrite chart CRD templates, manifests/install/, docs/crd-reference.md
#   tests/chart/run.sh -k schema       # extra arguments go to pytest
set -euo pipefail
repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo_root"

venv="$repo_root/.venv"
requirements="tests/chart/requirements.txt"
stamp="$venv/.chart-requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
# Reinstall only when requirements.txt changed since the last install.
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" >"$stamp"
fi

if [[ "${1:-}" == "--regenerate" ]]; then
  exec "$venv/bin/python" charts/liveops/hack/regenerate.py
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/chart "$@"
