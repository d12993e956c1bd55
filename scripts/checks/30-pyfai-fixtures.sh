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
