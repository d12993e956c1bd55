#!/usr/bin/env python3
"""Generate pyFAI reference outputs for the azint tests.

Usage: pyfai_reference.py OUTDIR [--no-integration]
       pyfai_reference.py --compare COMMITTED_DIR FRESH_DIR
       pyfai_reference.py --check-written-poni COMMITTED_DIR DIR_OF_AZINT_WRITTEN_PONI

Writes into OUTDIR (the committed copy lives in azint/tests/fixtures/pyfai/, format in its
README.md):
  manifest.json        metadata, scalar results and an index of the binary arrays
  *.f64 / *.u64        little-endian raw arrays listed in the manifest
  geometry.poni        the tilted PilatusCdTe2M geometry (PONI 2.1) everything is computed for
  poni/*.poni          PONI files of every version, with pyFAI's reading of each in the manifest

The test frame is defined by an integer-only formula (`frame()` below, mirrored in
azint/tests/fixtures/frame.rs), so both languages build the identical frame without a
committed image.
"""

import json
import os
import sys

import numpy as np
import pyFAI
import pyFAI.units
from pyFAI.detectors import detector_factory
from pyFAI.integrator.azimuthal import AzimuthalIntegrator

PONI_TEXT = """# Tilted reference geometry for the azint tests (PONI 2.1, as pyFAI 2024+ writes it)
poni_version: 2.1
Detector: PilatusCdTe2M
Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172, "orientation": 3}
Distance: 0.2873
Poni1: 0.1412
Poni2: 0.1185
Rot1: 0.0123
Rot2: -0.0234
Rot3: 0.0345
Wavelength: 2.0664032e-11
"""

# Frame formula parameters (see frame()).
FRAME = {
    "seed": 20261126,
    "center_row": 790,
    "center_col": 720,
    # (radius in 1/16 pixel, amplitude in counts, half width in 1/16 pixel)
    "rings": [[2400, 400, 40], [3900, 250, 48], [4650, 600, 36], [6100, 180, 56],
              [7350, 320, 44], [9800, 150, 64], [11200, 220, 52], [14500, 90, 80],
              [17100, 130, 70]],
    "spot_period": 20011,
}

SAMPLE_STRIDE = 2003
ORIENT_STRIDE = 10007
NPT_1D = 500
NPT_2D = (60, 24)
POLARIZATION = (0.99, 0.3)  # factor, axis offset (rad)
METHODS = [("no", "csr", "cython"), ("bbox", "csr", "cython"), ("full", "csr", "cython")]
UNITS = ["2th_deg", "q_nm^-1", "q_A^-1"]
MODELS = ["Pilatus1M", "Pilatus2M", "Pilatus6M", "PilatusCdTe1M", "PilatusCdTe2M",
          "Pilatus4_2M", "Eiger2CdTe_4M", "Eiger2CdTe_9M"]

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x):
    """SplitMix64 finalizer on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def isqrt(n):
    """Exact integer square root of a non-negative int64 array."""
    s = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    s -= (s * s > n).astype(np.int64)
    s += ((s + 1) * (s + 1) <= n).astype(np.int64)
    return s


def frame(mask):
    """The test frame: integer counts, -1 in the detector's masked pixels.

    For pixel (i, j) with flat index k = i*cols + j:
      r16 = isqrt(256*((i-cr)^2 + (j-cc)^2))           radius in 1/16 pixel
      bg  = 5 + 64000 // (r16 + 1600)
      ring_n = amp_n*w_n^2 // (w_n^2 + (r16-R_n)^2)    (Lorentzian, integer division)
      m   = bg + sum(ring_n)
      h   = splitmix64(seed*2^32 + k)
      s   = isqrt(m)
      v   = m + (h % (2s+1)) - s                        (noise of about Poisson width)
      if (h >> 32) % spot_period == 0: v += 2000 + (h >> 48) % 3000   (single-crystal spots)
      v = -1 where the detector mask is set.
    """
    rows, cols = mask.shape
    i = np.arange(rows, dtype=np.int64)[:, None]
    j = np.arange(cols, dtype=np.int64)[None, :]
    r2 = (i - FRAME["center_row"]) ** 2 + (j - FRAME["center_col"]) ** 2
    r16 = isqrt(256 * r2)
    m = 5 + 64000 // (r16 + 1600)
    for radius, amp, width in FRAME["rings"]:
        d = r16 - radius
        m = m + (amp * width * width) // (width * width + d * d)
    k = np.arange(rows * cols, dtype=np.uint64).reshape(rows, cols)
    h = splitmix64(np.uint64(FRAME["seed"]) * np.uint64(1 << 32) + k)
    s = isqrt(m)
    v = m + (h % (2 * s + 1).astype(np.uint64)).astype(np.int64) - s
    spot = ((h >> np.uint64(32)) % np.uint64(FRAME["spot_period"])) == 0
    v = v + np.where(spot, 2000 + ((h >> np.uint64(48)) % np.uint64(3000)).astype(np.int64), 0)
    v[mask.astype(bool)] = -1
    return v.astype(np.int32)


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.arrays = {}

    def add(self, name, array, dtype="f64"):
        arr = np.ascontiguousarray(np.asarray(array), dtype="<f8" if dtype == "f64" else "<u8")
        fname = name.replace("/", "__").replace("^", "").replace("-", "m") + "." + dtype
        arr.tofile(os.path.join(self.outdir, fname))
        self.arrays[name] = {"file": fname, "dtype": dtype, "shape": list(arr.shape)}


def mask_checksum(mask):
    idx = np.flatnonzero(np.asarray(mask).astype(bool).ravel()).astype(np.uint64)
    with np.errstate(over="ignore"):
        s1 = int(idx.sum(dtype=np.uint64))
        s2 = int((idx * idx).sum(dtype=np.uint64))
    return {"count": int(idx.size), "sum_index": s1, "sum_index_sq_wrapping": s2}


def sample_indices(shape, stride):
    n = shape[0] * shape[1]
    idx = list(range(0, n, stride))
    idx += [0, shape[1] - 1, n - shape[1], n - 1]
    return np.array(sorted(set(idx)), dtype=np.int64)


def corner_reference(ai, rows_cols, space, chi_at_pi):
    """f64 (radial internal value, chi) of the corners of the given pixels, in corner_array
    order (i,j), (i+1,j), (i+1,j+1), (i,j+1).

    pyFAI's corner_array stores float32 (its `_geometry.calc_rad_azim` returns float32), so
    the f64 reference is pyFAI's centre formula (calc_pos_zyx + the unit's equation, numexpr when
    available, the path of center_array) evaluated at the corner nodes: a corner node k is the centre
    coordinate k - 0.5, which the detector maps back to k (orientation included)."""
    i, j = rows_cols
    d1 = np.stack([i, i + 1, i + 1, i], axis=-1).astype(np.float64) - 0.5
    d2 = np.stack([j, j, j + 1, j + 1], axis=-1).astype(np.float64) - 0.5
    z, y, x = ai.calc_pos_zyx(d0=None, d1=d1, d2=d2, corners=False)
    z, y, x = (np.asarray(a, dtype=np.float64) for a in (z, y, x))
    assert z.dtype == np.float64
    internal = {"2th": "2th_rad", "q": "q_nm^-1", "r": "r_m"}[space]
    rad = pyFAI.units.to_unit(internal).equation(x, y, z, ai.wavelength)
    chi = pyFAI.units.to_unit("chi_rad").equation(x, y, z, ai.wavelength)
    if not chi_at_pi:
        chi = np.mod(chi, 2 * np.pi)
    return np.stack([rad, chi], axis=-1)


def geometry_samples(ai, w, prefix, stride, full=True):
    shape = ai.detector.shape
    idx = sample_indices(shape, stride)
    rows, cols = np.divmod(idx, shape[1])
    w.add(f"{prefix}/index", idx.astype(np.uint64), "u64")
    for unit in (["2th_rad", "2th_deg", "q_nm^-1", "q_A^-1", "r_mm", "chi_rad"] if full
                 else ["2th_deg", "chi_rad"]):
        w.add(f"{prefix}/center/{unit}", ai.center_array(unit=unit).ravel()[idx])
    ai.setChiDiscAtZero()
    w.add(f"{prefix}/center/chi_rad_disc0", ai.center_array(unit="chi_rad").ravel()[idx])
    ai.setChiDiscAtPi()
    spaces = {"2th_deg": ("2th", 180.0 / np.pi), "q_nm^-1": ("q", 1.0), "r_mm": ("r", 1000.0)}
    for unit, (space, scale) in spaces.items():
        if not full and unit != "2th_deg":
            continue
        ref = corner_reference(ai, (rows, cols), space, True)
        ref[..., 0] *= scale
        w.add(f"{prefix}/corners/{unit}", ref)
        # pyFAI's own corner_array (float32) must agree with the f64 path above.
        pyfai = ai.corner_array(unit=unit).reshape(-1, 4, 2)[idx]
        assert np.allclose(pyfai, ref, rtol=3e-7, atol=1e-6), unit
        if unit == "2th_deg":
            w.add(f"{prefix}/corners_f32/{unit}", pyfai.astype(np.float64))
        if full:
            # The unscaled float32 array pyFAI's bbox/full engines actually use.
            internal = ai.corner_array(unit=unit, scale=False).reshape(-1, 4, 2)[idx]
            w.add(f"{prefix}/corners_f32_internal/{space}", internal.astype(np.float64))
    if full:
        ref0 = corner_reference(ai, (rows, cols), "2th", False)
        ref0[..., 0] *= 180.0 / np.pi
        w.add(f"{prefix}/corners/2th_deg_disc0", ref0)
        # Solid angle: pyFAI's array (float32) and its f64 formula path (cos_incidence**3).
        cosa = ai.cos_incidence(rows.astype(np.float64), cols.astype(np.float64))
        w.add(f"{prefix}/solid_angle", cosa ** 3)
        w.add(f"{prefix}/solid_angle_f32", ai.solidAngleArray().ravel()[idx].astype(np.float64))
        # Polarization: pyFAI's formula on its f64 centre arrays, and its float32 array.
        factor, offset = POLARIZATION
        tth = ai.center_array(unit="2th_rad", scale=False).ravel()[idx]
        chi = ai.center_array(unit="chi_rad", scale=False).ravel()[idx]
        c2 = np.cos(tth) ** 2
        pol = 0.5 * (1.0 + c2 - factor * np.cos(2.0 * (chi + offset)) * (1.0 - c2))
        w.add(f"{prefix}/polarization", pol)
        pyfai_pol = ai.polarization(factor=factor, axis_offset=offset).ravel()[idx]
        assert np.allclose(pyfai_pol, pol, rtol=1e-6)
        w.add(f"{prefix}/polarization_f32", pyfai_pol.astype(np.float64))


def result_arrays(w, prefix, res, two_d):
    w.add(f"{prefix}/radial", res.radial)
    if two_d:
        w.add(f"{prefix}/azimuthal", res.azimuthal)
    names = ["intensity", "sigma", "count", "sum_signal", "sum_variance", "sum_normalization",
             "sum_normalization2"]
    if not two_d:
        names += ["std", "sem"]
    for name in names:
        value = getattr(res, name, None)
        if value is not None:
            w.add(f"{prefix}/{name}", np.asarray(value, dtype=np.float64))


PONI_FILES = {
    "v1.poni": """# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
# Calibration done at Thu Jan  1 00:00:00 2015
PixelSize1: 0.000172
PixelSize2: 0.000172
Distance: 0.2873
Poni1: 0.1412
Poni2: 0.1185
Rot1: 0.0123
Rot2: -0.0234
Rot3: 0.0345
Wavelength: 2.0664032e-11
""",
    "v1_detector.poni": """detector: Pilatus 2M
dist: 0.31
poni1: 0.12
poni2: 0.13
rot1: 0
rot2: 0
rot3: 0
wavelength: 1e-10
""",
    "v2.poni": """# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
poni_version: 2
Detector: Pilatus2MCdTe
Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172}
Distance: 0.2873
Poni1: 0.1412
Poni2: 0.1185
Rot1: 0.0123
Rot2: -0.0234
Rot3: 0.0345
Wavelength: 2.0664032e-11
""",
    "v21.poni": PONI_TEXT,
    "v21_alias_case.poni": """POni_VERSION: 2.1
DETECTOR: Pilatus CdTe 2M
detector_CONFIG: {"PIXEL1": 0.000172, "pixel2": 0.000172, "orientation": 2}
DIST: 0.2873
PONI1: 0.1412
poni2: 0.1185
ROT1: 0.0123
rot2: -0.0234
Rot3: 0.0345
Wavelength: 2.0664032e-11
SomethingNew: whatever a future pyFAI writes
# Calibrant: CeO2
""",
    "v3.poni": """# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
poni_version: 3
Detector: Eiger2CdTe_4M
Detector_config: {"pixel1": 7.5e-05, "pixel2": 7.5e-05, "orientation": 3, "sensor": {"material": "CdTe", "thickness": 0.00075}}
Distance: 0.2
Poni1: 0.08
Poni2: 0.07
Rot1: 0.001
Rot2: 0.002
Rot3: 0.0
Wavelength: 1.5e-11
Parallax: False
""",
    "generic.poni": """poni_version: 2.1
Detector: Detector
Detector_config: {"pixel1": 0.0001, "pixel2": 0.00012, "max_shape": [1000, 800], "orientation": 4}
Distance: 0.15
Poni1: 0.05
Poni2: 0.045
Rot1: -0.01
Rot2: 0.02
Rot3: 0.5
Wavelength: 7.3e-11
""",
}


MASK_SHAPE = (7, 5)


def mask_pattern():
    """Values of the small mask images: v[i, j] = (7 (5 i + j)) mod 4 (non-zero = masked)."""
    i, j = np.indices(MASK_SHAPE)
    return (7 * (5 * i + j)) % 4


def write_masks(outdir):
    """Small mask images in every format the pipeline reads, written by fabio and tifffile."""
    import fabio
    import tifffile
    d = os.path.join(outdir, "masks")
    os.makedirs(d, exist_ok=True)
    v = mask_pattern()
    fabio.edfimage.EdfImage(data=v.astype(np.uint8)).write(os.path.join(d, "u8.edf"))
    fabio.edfimage.EdfImage(data=v.astype(np.float32)).write(os.path.join(d, "f32.edf"))
    # A big-endian EDF, written by hand (fabio writes the machine's order).
    header = ("{\nHeaderID = EH:000001:000000:000000 ;\nImage = 1 ;\nByteOrder = HighByteFirst ;\n"
              f"DataType = SignedInteger ;\nDim_1 = {MASK_SHAPE[1]} ;\nDim_2 = {MASK_SHAPE[0]} ;\n"
              f"Size = {v.size * 4} ;\n")
    header = header + " " * (510 - len(header)) + "}\n"
    with open(os.path.join(d, "i32_be.edf"), "wb") as f:
        f.write(header.encode() + v.astype(">i4").tobytes())
    fabio.tifimage.TifImage(data=v.astype(np.uint16)).write(os.path.join(d, "u16_fabio.tif"))
    tifffile.imwrite(os.path.join(d, "u8.tif"), v.astype(np.uint8))
    tifffile.imwrite(os.path.join(d, "i32_strips.tif"), v.astype(np.int32), rowsperstrip=2)
    tifffile.imwrite(os.path.join(d, "f32_be.tif"), v.astype(np.float32), byteorder=">")
    np.save(os.path.join(d, "bool.npy"), v != 0)
    np.save(os.path.join(d, "f64.npy"), v.astype(np.float64))
    fabio.cbfimage.CbfImage(data=v.astype(np.int32)).write(os.path.join(d, "i32.cbf"))
    v.astype("<u2").tofile(os.path.join(d, "u16.raw"))


def poni_reading(path):
    ai = pyFAI.load(path)
    det = ai.detector
    return {
        "detector": type(det).__name__,
        "pixel1": det.pixel1, "pixel2": det.pixel2,
        "shape": list(det.shape) if det.shape is not None else None,
        "orientation": int(det.orientation),
        "dist": ai.dist, "poni1": ai.poni1, "poni2": ai.poni2,
        "rot1": ai.rot1, "rot2": ai.rot2, "rot3": ai.rot3,
        "wavelength": ai.wavelength,
    }


def compare(committed, fresh):
    """Check that freshly generated fixtures equal the committed ones: same manifest (up to
    version strings), same arrays within 1e-12 relative for geometry and 1e-9 for
    integration results. Returns the number of differences."""
    def load(d):
        with open(os.path.join(d, "manifest.json")) as f:
            return json.load(f)
    a, b = load(committed), load(fresh)
    bad = 0
    for key in sorted(set(a) | set(b)):
        if key in ("pyfai_version", "numpy_version", "arrays"):
            continue
        if a.get(key) != b.get(key):
            print(f"manifest entry `{key}` differs")
            bad += 1
    if set(a["arrays"]) != set(b["arrays"]):
        print("array lists differ:", sorted(set(a["arrays"]) ^ set(b["arrays"])))
        bad += 1
    for name in sorted(set(a["arrays"]) & set(b["arrays"])):
        ea, eb = a["arrays"][name], b["arrays"][name]
        dt = "<f8" if ea["dtype"] == "f64" else "<u8"
        xa = np.fromfile(os.path.join(committed, ea["file"]), dtype=dt)
        xb = np.fromfile(os.path.join(fresh, eb["file"]), dtype=dt)
        rtol = 1e-9 if name[:3] in ("1d/", "2d/") else 1e-12
        if xa.shape != xb.shape or not np.allclose(xa, xb, rtol=rtol, atol=0, equal_nan=True):
            print(f"array `{name}` differs (rtol {rtol})")
            bad += 1
    for name in os.listdir(os.path.join(committed, "poni")):
        with open(os.path.join(committed, "poni", name)) as f1, \
                open(os.path.join(fresh, "poni", name)) as f2:
            if f1.read() != f2.read():
                print(f"poni/{name} differs")
                bad += 1
    if a["pyfai_version"] != b["pyfai_version"]:
        print(f"note: fixtures made with pyFAI {a['pyfai_version']}, now {b['pyfai_version']}")
    return bad


def check_written_poni(committed, written):
    """pyFAI must read the PONI files azint writes (Poni::to_text) as it reads the originals."""
    expected = json.load(open(os.path.join(committed, "manifest.json")))["poni"]
    bad = 0
    for name, reading in expected.items():
        got = poni_reading(os.path.join(written, name))
        if got != reading:
            print(f"pyFAI reads azint's {name} as {got}, expected {reading}")
            bad += 1
    return bad


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check-written-poni":
        bad = check_written_poni(sys.argv[2], sys.argv[3])
        print("pyFAI reads azint's PONI files as the originals" if bad == 0
              else f"{bad} differences")
        sys.exit(1 if bad else 0)
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        bad = compare(sys.argv[2], sys.argv[3])
        print("fixtures equal pyFAI's current output" if bad == 0 else f"{bad} differences")
        sys.exit(1 if bad else 0)
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    outdir = sys.argv[1]
    integrate = "--no-integration" not in sys.argv
    os.makedirs(os.path.join(outdir, "poni"), exist_ok=True)
    w = Writer(outdir)
    manifest = {"pyfai_version": pyFAI.version, "numpy_version": np.__version__,
                "frame": FRAME, "sample_stride": SAMPLE_STRIDE,
                "orientation_stride": ORIENT_STRIDE, "polarization": list(POLARIZATION)}

    with open(os.path.join(outdir, "geometry.poni"), "w") as f:
        f.write(PONI_TEXT)
    ai = pyFAI.load(os.path.join(outdir, "geometry.poni"))
    det = ai.detector
    assert type(det).__name__ == "PilatusCdTe2M"

    # PONI files of every version and pyFAI's reading of them.
    readings = {}
    for name, text in PONI_FILES.items():
        path = os.path.join(outdir, "poni", name)
        with open(path, "w") as f:
            f.write(text)
        readings[name] = poni_reading(path)
    manifest["poni"] = readings

    # Small mask images of every format (inputs of the pipeline's mask reader tests).
    write_masks(outdir)
    manifest["mask_files"] = {"shape": list(MASK_SHAPE),
                              "values": "(7 * (5 * i + j)) % 4, non-zero = masked"}

    # Detector masks.
    manifest["masks"] = {m: mask_checksum(detector_factory(m).mask) for m in MODELS}

    # Per-pixel geometry of the tilted geometry, and of the other orientations.
    geometry_samples(ai, w, "pixels", SAMPLE_STRIDE)
    for orientation in (1, 2, 4):
        det_o = detector_factory("PilatusCdTe2M", {"orientation": orientation})
        ai_o = AzimuthalIntegrator(dist=ai.dist, poni1=ai.poni1, poni2=ai.poni2, rot1=ai.rot1,
                                   rot2=ai.rot2, rot3=ai.rot3, detector=det_o,
                                   wavelength=ai.wavelength)
        geometry_samples(ai_o, w, f"orientation{orientation}", ORIENT_STRIDE, full=False)

    # The frame: its checksum lets the Rust side prove it builds the same one.
    img = frame(det.mask)
    with np.errstate(over="ignore"):
        k = np.arange(img.size, dtype=np.uint64)
        fsum = int((img.ravel().astype(np.int64).astype(np.uint64) * (k + np.uint64(1))).sum(
            dtype=np.uint64))
    manifest["frame_checksum"] = {"sum": int(img.astype(np.int64).sum()),
                                  "weighted_sum_wrapping": fsum,
                                  "max": int(img.max()), "min": int(img.min())}

    results = {}
    if integrate:
        for method in METHODS:
            for unit in UNITS:
                key = f"1d/{method[0]}/{unit}"
                res = ai.integrate1d(img, NPT_1D, unit=unit, method=method,
                                     error_model="poisson")
                result_arrays(w, key, res, False)
                results[key] = {"method": list(method), "unit": unit, "npt": NPT_1D,
                                "error_model": "poisson", "correct_solid_angle": True}
                key = f"2d/{method[0]}/{unit}"
                res = ai.integrate2d(img, NPT_2D[0], NPT_2D[1], unit=unit, method=method,
                                     error_model="poisson")
                result_arrays(w, key, res, True)
                results[key] = {"method": list(method), "unit": unit,
                                "npt_rad": NPT_2D[0], "npt_azim": NPT_2D[1],
                                "azimuthal_unit": "chi_deg",
                                "error_model": "poisson", "correct_solid_angle": True}
        key = "1d/bbox/2th_deg/polarized"
        res = ai.integrate1d(img, NPT_1D, unit="2th_deg", method=METHODS[1],
                             error_model="poisson", polarization_factor=POLARIZATION[0])
        result_arrays(w, key, res, False)
        results[key] = {"method": list(METHODS[1]), "unit": "2th_deg", "npt": NPT_1D,
                        "error_model": "poisson", "correct_solid_angle": True,
                        "polarization_factor": POLARIZATION[0], "axis_offset": 0.0}
    manifest["integrations"] = results
    manifest["arrays"] = w.arrays
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
