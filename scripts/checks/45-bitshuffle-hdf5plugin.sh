#!/usr/bin/env bash
# The bitshuffle codec is bit-exact against the real HDF5 filters (h5py + hdf5plugin): chunks
# the bitshuffle/LZ4, bitshuffle/zstd and LZ4 filters write decode to the same pixels on every
# path, and the crate's own chunks read back through those filters. Needs h5py and
# hdf5plugin (XRDCT_PYTHON, default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${XRDCT_PYTHON:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" scripts/bitshuffle_vs_hdf5plugin.py write "$work"
XRDCT_BSHUF_FIXTURES="$work" cargo test -q -p xrdct-bitshuffle --all-features --test hdf5plugin
"$python" scripts/bitshuffle_vs_hdf5plugin.py verify "$work"
