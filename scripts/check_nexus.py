#!/usr/bin/env python3
"""Cross-check: the NeXus file written by `xrdct integrate` opens in h5py and silx and follows
the NeXus rules that facility tools rely on.

Usage: check_nexus.py FILE.h5 [--frames N] [--bins B] [--failed K,K,...]

Checks: NX_class of the root, /entry (NXentry), /entry/integrated (NXdata) and
/entry/process (NXprocess); @default chain root -> entry -> integrated; NXdata @signal and
@axes; silx recognises a valid NXdata with its signal, axis and errors; shapes and dtypes
(intensity/sigma float32 frames x bins, chunked and compressed; radial float64 with @units);
frame_ok and frame_source; NaN rows exactly where frame_ok is 0; the process record (program,
version, PONI text, JSON configuration). Prints one line per check; exits 1 on any failure.
"""
import argparse
import json
import sys

import h5py
import numpy

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def text(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, numpy.ndarray) and v.shape == ():
        return text(v[()])
    return str(v)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("file")
    p.add_argument("--frames", type=int)
    p.add_argument("--bins", type=int)
    p.add_argument("--failed", default="", help="comma-separated indices of frames expected to fail")
    a = p.parse_args()

    with h5py.File(a.file, "r") as f:
        check(text(f.attrs.get("default")) == "entry", "root @default = entry")
        check(text(f.attrs.get("NX_class", "NXroot")) == "NXroot", "root NX_class NXroot")
        entry = f["entry"]
        check(text(entry.attrs.get("NX_class")) == "NXentry", "/entry NX_class NXentry")
        check(text(entry.attrs.get("default")) == "integrated", "/entry @default = integrated")
        for name in ("start_time", "end_time"):
            check(name in entry and "T" in text(entry[name][()]), f"/entry/{name} ISO 8601")
        data = entry["integrated"]
        check(text(data.attrs.get("NX_class")) == "NXdata", "/entry/integrated NX_class NXdata")
        check(text(data.attrs.get("signal")) == "intensity", "NXdata @signal = intensity")
        axes = [text(x) for x in data.attrs.get("axes", [])]
        check(axes == [".", "radial"], f"NXdata @axes = ['.', 'radial'] (got {axes})")

        i, s, r = data["intensity"], data["sigma"], data["radial"]
        check(i.dtype == numpy.float32 and s.dtype == numpy.float32, "intensity, sigma float32")
        check(i.ndim == 2 and i.shape == s.shape, f"intensity, sigma frames x bins {i.shape}")
        check(i.chunks is not None and i.chunks[1] == i.shape[1], f"intensity chunked per frame block {i.chunks}")
        check(i.compression is not None, f"intensity compressed ({i.compression})")
        check(r.dtype == numpy.float64 and r.shape == (i.shape[1],), "radial float64 [bins]")
        check(text(r.attrs.get("units", "")) in ("deg", "rad", "1/nm", "1/angstrom", "mm", "m"),
              f"radial @units ({text(r.attrs.get('units', ''))})")
        check(bool(numpy.all(numpy.diff(r[()]) > 0)), "radial increasing")
        if a.frames is not None:
            check(i.shape[0] == a.frames, f"{a.frames} frames")
        if a.bins is not None:
            check(i.shape[1] == a.bins, f"{a.bins} bins")
        ok = data["frame_ok"][()]
        src = data["frame_source"][()]
        check(ok.shape == (i.shape[0],) and src.shape == (i.shape[0],), "frame_ok, frame_source one per frame")
        failed = sorted(int(x) for x in a.failed.split(",") if x.strip())
        check(sorted(numpy.flatnonzero(ok == 0).tolist()) == failed, f"failed frames {failed}")
        inten = i[()]
        nan_rows = numpy.all(numpy.isnan(inten), axis=1)
        check(bool(numpy.array_equal(nan_rows, ok == 0)), "NaN rows exactly where frame_ok = 0")
        good = inten[ok == 1]
        check(bool(numpy.all(numpy.isfinite(good))), "finite intensities in reduced frames")

        if "sum_signal" in data:
            ss, sn, cnt = (data[k][()] for k in ("sum_signal", "sum_normalization", "count"))
            check(ss.dtype == numpy.float64 and ss.shape == i.shape, "accumulators float64 frames x bins")
            m = (sn > 0) & (ok[:, None] == 1)
            check(bool(numpy.allclose(ss[m] / sn[m], inten[m], rtol=1e-5, atol=0)),
                  "sum_signal / sum_normalization = intensity")
            check(bool(numpy.all(cnt[ok == 1] >= 0)), "count >= 0")

        proc = entry["process"]
        check(text(proc.attrs.get("NX_class")) == "NXprocess", "/entry/process NX_class NXprocess")
        check(text(proc["program"][()]) == "xrdct", "process/program = xrdct")
        check(len(text(proc["version"][()])) > 0, "process/version")
        poni = text(proc["geometry/data"][()])
        check("Distance" in poni or "dist" in poni.lower(), "process/geometry holds the PONI text")
        cfg = json.loads(text(proc["configuration/data"][()]))
        for key in ("bins", "unit", "split", "poni"):
            check(key in cfg, f"configuration has {key}")
        check(text(proc["parameters"].attrs.get("NX_class")) == "NXcollection", "process/parameters NXcollection")

    # silx: the NeXus reader beamline tools use.
    import silx.io
    import silx.io.nxdata as nxdata

    with silx.io.open(a.file) as h:
        g = h["entry/integrated"]
        check(nxdata.is_valid_nxdata(g), "silx: valid NXdata")
        d = nxdata.NXdata(g)
        check(d.signal.shape == tuple(i.shape), "silx: signal shape")
        check(d.axes_dataset_names == [None, "radial"], f"silx: axes {d.axes_dataset_names}")
        check(d.errors is not None, "silx: errors found (intensity_errors)")
        dflt = nxdata.get_default(h)
        check(dflt is not None and dflt.signal_name == "intensity", "silx: default plot is the intensity")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("NeXus output OK")


if __name__ == "__main__":
    main()
