#!/usr/bin/env bash
# `xrdct integrate` output opens in h5py and silx with the NeXus classes, default plot,
# signal/axes and units that facility tools expect; failed frames are recorded.
set -euo pipefail
cd "$(dirname "$0")/../.."
py="${XRDCT_PYTHON:-python3}"
bin="${XRDCT_BIN:-target/debug/xrdct}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Small synthetic frames written with fabio (an independent CBF writer) on a generic detector.
"$py" - "$tmp" <<'PY'
import sys, numpy, fabio.cbfimage
d = sys.argv[1]
open(f"{d}/small.poni", "w").write(
    "poni_version: 2.1\nDetector: Detector\n"
    'Detector_config: {"pixel1": 0.0001, "pixel2": 0.0001, "max_shape": [120, 140], "orientation": 3}\n'
    "Distance: 0.1\nPoni1: 0.006\nPoni2: 0.0071\nRot1: 0.0\nRot2: 0.0\nRot3: 0.0\nWavelength: 1e-10\n")
y, x = numpy.mgrid[:120, :140]
rad = numpy.hypot(y - 60, x - 71)
rng = numpy.random.default_rng(0)
for k in range(9):
    lam = 5 + (80 + 5 * k) * numpy.exp(-0.5 * ((rad - 30) / 1.5) ** 2)
    img = rng.poisson(lam).astype(numpy.int32)
    img[:, 100] = -1
    fabio.cbfimage.CbfImage(data=img).write(f"{d}/frame_{k:03d}.cbf")
open(f"{d}/frame_004.cbf", "wb").write(b"not a frame\n")
PY

set +e
"$bin" integrate --poni "$tmp/small.poni" --bins 150 --split bbox --unit q_nm^-1 \
  --accumulators -o "$tmp/out.h5" "$tmp"
rc=$?
set -e
[ "$rc" = 1 ] || { echo "expected exit status 1 (one bad frame), got $rc"; exit 1; }
"$py" scripts/check_nexus.py "$tmp/out.h5" --frames 9 --bins 150 --failed 4
