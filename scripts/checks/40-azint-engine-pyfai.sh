#!/usr/bin/env bash
# azint engines (no/bbox/full splitting, 1D/2D, corrections, error models, sigma clipping,
# quantile filter) against pyFAI on pyFAI's own per-pixel arrays of a small tilted detector.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"${XRDCT_PYTHON:-python3}" scripts/pyfai_engine_cases.py "$out" >/dev/null
XRDCT_PYFAI_ENGINE_DIR="$out" cargo test -q -p azint --test integrate_pyfai -- --nocapture
