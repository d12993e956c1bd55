#!/usr/bin/env bash
# `xrdct reconstruct` against scikit-image `iradon` for every filter (rel. RMS <= 1e-3).
set -euo pipefail
cd "$(dirname "$0")/../.."
"${XRDCT_PYTHON:-python3}" scripts/fbp_vs_skimage.py
