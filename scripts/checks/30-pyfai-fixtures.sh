#!/usr/bin/env bash
# Regenerate the pyFAI reference fixtures of azint (azint/tests/fixtures/pyfai) into a temporary
# directory and check that pyFAI still produces the committed numbers (about a minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${XRDCT_PYTHON:-.venv/bin/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" scripts/pyfai_reference.py "$tmp"
"$PY" scripts/pyfai_reference.py --compare azint/tests/fixtures/pyfai "$tmp"
# pyFAI reads the PONI files azint writes (Poni::to_text) as it reads the originals.
mkdir "$tmp/written"
AZINT_WRITE_PONI_DIR="$tmp/written" cargo test -q -p azint --test geometry_vs_pyfai poni_files >/dev/null
"$PY" scripts/pyfai_reference.py --check-written-poni azint/tests/fixtures/pyfai "$tmp/written"
