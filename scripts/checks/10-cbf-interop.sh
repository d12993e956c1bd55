#!/usr/bin/env bash
# CBF interoperability: frames written by cbf-format are read by fabio and pycbf (CBFlib) to
# identical pixels and header values, and frames written by fabio are read by `xrdct`.
# Needs XRDCT_PYTHON (venv with fabio, pycbf, numpy) and XRDCT_BIN (the xrdct binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XRDCT_PYTHON:?XRDCT_PYTHON must point to the venv python}"
: "${XRDCT_BIN:?XRDCT_BIN must point to the xrdct binary}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo run -q -p cbf-format --example write_interop_frames -- "$work/frames"
"$XRDCT_PYTHON" scripts/cbf_interop.py "$work/frames" "$work/fabio"
