#!/usr/bin/env python3
"""Cross-check `xrdct reconstruct` against scikit-image `iradon(..., circle=True)`.

For a Shepp-Logan phantom and a multi-phase phantom (several bins, each a different mix of
phase maps), at an even and an odd size, the script builds sinogram cubes with
`skimage.transform.radon`, writes them as NeXus (/entry/sinogram/data, rotations ×
translations × bins, and /entry/sinogram/rotation_angle in degrees), runs
`$XRDCT_BIN reconstruct --filter F` for every filter and compares each bin with `iradon`
run on that bin: the relative RMS difference inside the reconstruction circle must be
<= 1e-3 (orientation and scaling included). Exit status 1 on any failure.

With `--bench [ROT TRANS BINS SUBSET]` (default 200 200 2000 20) it instead times
`xrdct reconstruct` (its own FBP timing, read/write excluded, median of 3 runs) on a
ROT × TRANS × BINS cube and scikit-image `iradon` run bin by bin on SUBSET bins of the same
cube, extrapolated linearly to all bins (said so in the output). Use a release binary.

Usage: XRDCT_BIN=target/debug/xrdct python scripts/fbp_vs_skimage.py [--keep DIR]
       XRDCT_BIN=target/release/xrdct python scripts/fbp_vs_skimage.py --bench
"""
import json
import time
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from skimage.data import shepp_logan_phantom
from skimage.transform import iradon, radon, resize

FILTERS = ["ramp", "shepp-logan", "cosine", "hamming", "hann"]
TOL = 1e-3


def disc(n, cx, cy, r):
    yy, xx = np.mgrid[:n, :n]
    return ((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r).astype(np.float64)


def in_circle(im):
    n = im.shape[0]
    yy, xx = np.mgrid[:n, :n] - n // 2
    return np.where(xx ** 2 + yy ** 2 <= (n // 2) ** 2, im, 0.0)


def phantoms(n):
    sl = in_circle(resize(shepp_logan_phantom(), (n, n), anti_aliasing=True))
    c = n / 2
    a = disc(n, c, c, 0.42 * n) - disc(n, c - 0.1 * n, c + 0.05 * n, 0.12 * n)
    b = disc(n, c - 0.1 * n, c + 0.05 * n, 0.12 * n) + disc(n, c + 0.2 * n, c - 0.15 * n, 0.07 * n)
    g = np.zeros((n, n))
    g[int(0.3 * n):int(0.38 * n), int(0.25 * n):int(0.7 * n)] = 1.0  # a bar, off-centre
    phases = [a, b, g]
    mix = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.3, 0.2], [0.1, 1.0, 0.4], [2.0, 0.0, 1.0]]
    multi = [sum(w * p for w, p in zip(m, phases)) for m in mix]
    return {"shepp-logan": [sl, sl ** 2], "multi-phase": multi}


def write_cube(path, images, theta):
    sinos = [radon(im, theta=theta, circle=True) for im in images]  # (translations, rotations)
    cube = np.stack([s.T for s in sinos], axis=-1).astype(np.float32)  # rot × trans × bins
    with h5py.File(path, "w") as f:
        e = f.create_group("entry")
        e.attrs["NX_class"] = "NXentry"
        s = e.create_group("sinogram")
        s.attrs["NX_class"] = "NXdata"
        s.create_dataset("data", data=cube)
        s.create_dataset("rotation_angle", data=np.asarray(theta, dtype=np.float64))
    return cube


def bench(exe, args):
    rot, n, bins, subset = (int(a) for a in (args + ["200", "200", "2000", "20"][len(args):]))
    theta = np.linspace(0.0, 180.0, rot, endpoint=False)
    base = radon(in_circle(resize(shepp_logan_phantom(), (n, n), anti_aliasing=True)),
                 theta=theta, circle=True).T
    w = 1.0 + np.sin(0.05 * np.arange(bins))
    cube = (base[:, :, None] * w[None, None, :]).astype(np.float32)
    tmp = tempfile.mkdtemp(prefix="fbp-bench-")
    src = os.path.join(tmp, "cube.h5")
    with h5py.File(src, "w") as f:
        f.create_dataset("entry/sinogram/data", data=cube)
        f.create_dataset("entry/sinogram/rotation_angle", data=theta)
    ours = []
    for _ in range(3):
        out = subprocess.run([exe, "reconstruct", src, "-o", os.path.join(tmp, "out.h5"), "--json"],
                             check=True, capture_output=True, text=True).stdout
        ours.append(json.loads(out)["seconds"]["reconstruct"])
    ours = float(np.median(ours))
    t = time.perf_counter()
    for b in range(subset):
        iradon(cube[:, :, b].T, theta=theta, filter_name="ramp", circle=True)
    per_bin = (time.perf_counter() - t) / subset
    sk = per_bin * bins
    print(f"cube {rot} rotations x {n} translations x {bins} bins")
    print(f"xrdct reconstruct (FBP only, median of 3): {ours:.3f} s")
    print(f"skimage iradon bin by bin: {per_bin * 1e3:.1f} ms/bin over {subset} bins, "
          f"extrapolated to {bins} bins: {sk:.1f} s")
    print(f"speed-up: {sk / ours:.1f}x")
    os.remove(src)
    return 0


def main():
    exe = os.environ.get("XRDCT_BIN", "target/debug/xrdct")
    if "--bench" in sys.argv:
        return bench(exe, sys.argv[sys.argv.index("--bench") + 1:])
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    tmp = keep or tempfile.mkdtemp(prefix="fbp-skimage-")
    os.makedirs(tmp, exist_ok=True)
    worst = 0.0
    failed = []
    for n, n_angles in [(128, 120), (101, 90)]:
        theta = np.linspace(0.0, 180.0, n_angles, endpoint=False)
        for name, images in phantoms(n).items():
            src = os.path.join(tmp, f"{name}-{n}.h5")
            cube = write_cube(src, images, theta)
            radius = n // 2
            xpr, ypr = np.mgrid[:n, :n] - radius
            inside = xpr ** 2 + ypr ** 2 <= radius ** 2
            for flt in FILTERS:
                dst = os.path.join(tmp, f"{name}-{n}-{flt}-out.h5")
                subprocess.run([exe, "reconstruct", src, "-o", dst, "--filter", flt],
                               check=True, stdout=subprocess.DEVNULL)
                with h5py.File(dst, "r") as f:
                    ours = f["entry/tomogram/data"][()]
                    assert f["entry/sinogram/data"].shape == cube.shape
                rms = []
                for b in range(cube.shape[2]):
                    ref = iradon(cube[:, :, b].T.astype(np.float64), theta=theta,
                                 filter_name=flt, circle=True)
                    d = ours[b][inside] - ref[inside]
                    rms.append(float(np.sqrt(np.sum(d * d) / np.sum(ref[inside] ** 2))))
                    outside = np.abs(ours[b][~inside]).max()
                    if outside != 0.0:
                        failed.append(f"{name} n={n} {flt} bin {b}: {outside} outside circle")
                r = max(rms)
                worst = max(worst, r)
                status = "ok" if r <= TOL else "FAIL"
                print(f"{name:12s} n={n:3d} angles={n_angles:3d} bins={cube.shape[2]} "
                      f"{flt:12s} max rel. RMS {r:.2e}  {status}")
                if r > TOL:
                    failed.append(f"{name} n={n} {flt}: {r:.2e}")
    print(f"worst relative RMS difference: {worst:.2e} (limit {TOL:.0e})")
    if failed:
        print("FAILED:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
