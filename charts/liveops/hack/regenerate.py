"""Regenerates everything derived from crds/ and the chart, in dependency order.

    tests/chart/run.sh --regenerate        # sets up .venv, then runs this

1. charts/liveops/templates/crds/*.yaml   from crds/*.yaml
2. manifests/install/liveops.yaml         from the chart (needs helm-python-sdk)
3. docs/crd-reference.md                  from crds/*.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crd_reference  # noqa: E402
import crd_templates  # noqa: E402
import install_manifests  # noqa: E402
from paths import REPO_ROOT  # noqa: E402


def main() -> int:
    for generator in (crd_templates, install_manifests, crd_reference):
        for path in generator.write():
            print(f"wrote {Path(path).relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
