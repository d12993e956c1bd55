#!/usr/bin/env bash
# Byte-offset encoder output is byte-identical to fabio's CBF writer for the same pixels, and
# the decoder reads fabio's streams back. Needs XRDCT_PYTHON (venv with fabio and numpy).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XRDCT_PYTHON:?XRDCT_PYTHON must point to the venv python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build -q -p byteoffset --example codec_raw
"$XRDCT_PYTHON" scripts/byteoffset_fabio_identical.py target/debug/examples/codec_raw "$work"
