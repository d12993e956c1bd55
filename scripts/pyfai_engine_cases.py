#!/usr/bin/env python3
"""pyFAI reference outputs for the azint integration engines, on a small tilted detector.

Writes, into OUTDIR, pyFAI's own per-pixel arrays (so that the engines are checked
independently of azint's geometry code) and the results of `integrate1d` / `integrate2d_ng`
(CSR engines, no/bbox/full splitting), `sigma_clip_ng` and `medfilt1d_ng` for a set of cases.
The Rust test `azint/tests/integrate_pyfai.rs` reads them when `XRDCT_PYFAI_ENGINE_DIR` names
the folder (see `scripts/checks/40-azint-engine-pyfai.sh`).

Layout: `cases.json` (list of cases with their configuration and output file names) and raw
little-endian arrays `*.f64` / `*.i32` / `*.u8`.

Usage: python scripts/pyfai_engine_cases.py OUTDIR
"""

import json
import os
import sys

import numpy
import pyFAI
from pyFAI.detectors import Detector
from pyFAI.integrator.azimuthal import AzimuthalIntegrator

SHAPE = (131, 117)


def write(outdir, name, array, dtype):
    numpy.ascontiguousarray(array, dtype=dtype).tofile(os.path.join(outdir, name))
    return name


def make_ai():
    det = Detector(pixel1=172e-6, pixel2=172e-6, max_shape=SHAPE)
    mask = numpy.zeros(SHAPE, dtype=numpy.int8)
    mask[60:66, :] = 1  # a module gap
    mask[:, 50:53] = 1
    mask[5, 7] = 1
    det.mask = mask
    ai = AzimuthalIntegrator(dist=0.05, poni1=0.0121, poni2=0.0093, rot1=0.07, rot2=-0.04,
                             rot3=0.3, wavelength=0.7e-10, detector=det)
    return ai, mask


def make_frame(ai, mask, seed):
    rng = numpy.random.default_rng(seed)
    tth = ai.center_array(SHAPE, "2th_rad", scale=False)
    rings = sum(300.0 * numpy.exp(-0.5 * ((tth - c) / 0.004) ** 2) for c in (0.15, 0.22, 0.31, 0.4))
    mean = 5.0 + rings
    mean *= ai.solidAngleArray(SHAPE) * ai.polarization(SHAPE, 0.95)
    frame = rng.poisson(mean).astype(numpy.int32)
    frame[mask != 0] = -1
    # a few dynamically rejected pixels and a spot
    frame[20, 30:33] = -2
    frame[90, 90] = -1
    frame[70:73, 20:23] += 5000
    return frame


def arrays(ai, unit):
    shape = SHAPE
    radial = ai.array_from_unit(shape, "center", unit, scale=True)
    # pyFAI integrates on float32 corners in its internal unit (radians for 2th, nm^-1 for q):
    # hand out exactly those values, scaled to the unit in float64 (chi stays in radians)
    corners = ai.corner_array(shape, unit, scale=False).astype(numpy.float64)
    corners[..., 0] *= pyFAI.units.to_unit(unit).scale
    return radial, corners


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    ai, mask = make_ai()
    frame = make_frame(ai, mask, 7)
    write(outdir, "frame.i32", frame, "<i4")
    write(outdir, "mask.u8", mask, "u1")
    sa = ai.solidAngleArray(SHAPE).astype(numpy.float64)
    pol = ai.polarization(SHAPE, 0.95).astype(numpy.float64)
    write(outdir, "solid_angle.f64", sa, "<f8")
    write(outdir, "polarization.f64", pol, "<f8")
    rng = numpy.random.default_rng(3)
    dark = rng.uniform(0, 2, SHAPE).astype(numpy.float32)
    flat = rng.uniform(0.9, 1.1, SHAPE).astype(numpy.float32)
    write(outdir, "dark.f64", dark, "<f8")
    write(outdir, "flat.f64", flat, "<f8")

    units = {"2th_deg": "2th_deg", "q_nm^-1": "q_nm^-1", "q_A^-1": "q_A^-1"}
    for uname in units:
        radial, corners = arrays(ai, uname)
        safe = uname.replace("^", "").replace("-", "m")
        write(outdir, f"radial_{safe}.f64", radial, "<f8")
        write(outdir, f"corners_{safe}.f64", corners, "<f8")
    write(outdir, "chi.f64", ai.center_array(SHAPE, "chi_rad", scale=False), "<f8")

    cases = []

    def record(name, result, extra):
        d = {"name": name}
        d.update(extra)
        for key, arr in (("radial", result.radial), ("intensity", result.intensity),
                         ("sigma", result.sigma), ("count", result.count),
                         ("sum_signal", result.sum_signal),
                         ("sum_normalization", result.sum_normalization)):
            if arr is None:
                continue
            d[key] = write(outdir, f"{name}.{key}.f64", numpy.asarray(arr, dtype=numpy.float64), "<f8")
        if getattr(result, "azimuthal", None) is not None:
            d["azimuthal"] = write(outdir, f"{name}.azimuthal.f64", result.azimuthal, "<f8")
        cases.append(d)

    common = dict(dummy=-2, delta_dummy=1.5, polarization_factor=0.95, mask=mask)
    for uname in units:
        safe = uname.replace("^", "").replace("-", "m")
        for split in ("no", "bbox", "full"):
            cfg = {"unit": safe, "split": split, "bins": 150, "error_model": "poisson",
                   "dummy": -2.0, "delta_dummy": 1.5, "kind": "1d"}
            ai.reset()
            res = ai.integrate1d(frame, 150, unit=uname, method=(split, "csr", "cython"),
                                 error_model="poisson", **common)
            record(f"i1d_{safe}_{split}", res, cfg)
            cfg2 = dict(cfg, kind="2d", bins=60, azimuthal_bins=36)
            ai.reset()
            res = ai.integrate2d_ng(frame, 60, 36, unit=uname, method=(split, "csr", "cython"),
                                    error_model="poisson", **common)
            record(f"i2d_{safe}_{split}", res, cfg2)

    # corrections, ranges, monitor, azimuthal error model
    for split in ("no", "bbox"):
        ai.reset()
        res = ai.integrate1d(frame, 97, unit="2th_deg", method=(split, "csr", "cython"),
                             error_model="poisson", dark=dark, flat=flat,
                             radial_range=(10.0, 30.0), azimuth_range=(-100.0, 120.0),
                             normalization_factor=2.5, **common)
        record(f"corr_{split}", res, {"unit": "2th_deg", "split": split, "bins": 97,
                                      "error_model": "poisson", "dummy": -2.0,
                                      "delta_dummy": 1.5, "kind": "1d", "dark": True,
                                      "flat": True, "radial_range": [10.0, 30.0],
                                      "azimuth_range": [-100.0, 120.0],
                                      "normalization_factor": 2.5})
        ai.reset()
        res = ai.integrate1d(frame, 120, unit="q_nm^-1", method=(split, "csr", "cython"),
                             error_model="azimuthal", **common)
        record(f"azim_{split}", res, {"unit": "q_nmm1", "split": split, "bins": 120,
                                      "error_model": "azimuthal", "dummy": -2.0,
                                      "delta_dummy": 1.5, "kind": "1d"})
    ai.reset()
    res = ai.sigma_clip(frame, 100, unit="q_nm^-1", method=("no", "csr", "cython"),
                        error_model="azimuthal", thres=0.0, max_iter=5, **common)
    record("sigma_clip", res, {"unit": "q_nmm1", "split": "no", "bins": 100,
                               "error_model": "azimuthal", "dummy": -2.0, "delta_dummy": 1.5,
                               "kind": "sigma_clip", "thres": 0.0, "max_iter": 5})
    ai.reset()
    res = ai.medfilt1d_ng(frame, 100, unit="q_nm^-1", method=("no", "csr", "cython"),
                          error_model="poisson", percentile=(20, 80), **common)
    record("medfilt", res, {"unit": "q_nmm1", "split": "no", "bins": 100,
                            "error_model": "poisson", "dummy": -2.0, "delta_dummy": 1.5,
                            "kind": "medfilt", "quantiles": [0.2, 0.8]})

    meta = {"shape": list(SHAPE), "pyFAI": pyFAI.version, "cases": cases}
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({"cases": len(cases), "outdir": outdir}))


if __name__ == "__main__":
    main()
