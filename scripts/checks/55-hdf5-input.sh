#!/usr/bin/env bash
# HDF5 frame input reads files written by h5py + hdf5plugin to the pixels h5py reads:
# bitshuffle/LZ4 of u8/u16/u32/i32 (direct chunk path, any block size), a DECTRIS master file
# with two linked data files, a LIMA file, gzip and two-frame chunks (HDF5 read path, the
# latter with hdf5plugin's filter).
# Needs h5py and hdf5plugin (XRDCT_PYTHON, default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${XRDCT_PYTHON:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cases="$("$python" scripts/hdf5_input_reference.py "$work")"
cargo test -q -p xrdct-pipeline --test hdf5_input --no-run
# Only the case HDF5 itself must decode (several frames per chunk) gets hdf5plugin's filters;
# the others must read without any plugin.
plugins="$("$python" -c 'import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)')"
for case in $cases; do
    echo "== $case"
    path=/nonexistent
    [[ $case == two_frames_* ]] && path="$plugins"
    HDF5_PLUGIN_PATH="$path" XRDCT_H5_FILE="$work/$case.h5" XRDCT_H5_EXPECT="$work/$case.i32" \
        cargo test -q -p xrdct-pipeline --test hdf5_input -- --ignored --nocapture \
        external_files_match_their_reference_pixels
done
