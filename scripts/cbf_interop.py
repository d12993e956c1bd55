#!/usr/bin/env python3
"""cbf_interop.py - CBF interoperability check between cbf-format and the reference readers.

1. Frames written by cbf-format's writers (cargo example `write_interop_frames`: a Dectris-style
   miniCBF per integer element type, imgCIF with one and with two sections) are read by fabio and
   by pycbf (CBFlib); pixels must be identical (same dtype, shape, SHA-256 of the little-endian
   bytes) and so must the header (every `_array_data.header_contents` line, the MIME element
   type and dimensions). pycbf reads with MSG_DIGEST, so it also checks our Content-MD5.
2. Frames written by fabio (several dtypes, with Pilatus header lines) are read by us through
   the `xrdct` binary: `xrdct decode --keep-type` must give fabio's pixels, and
   `xrdct info --json` its dims, element type, MD5 status and header values.
3. Frames written by pycbf (CBFlib) with x-CBF_PACKED and x-CBF_PACKED_V2, with and without
   the "flat" and "uncorrelated_sections" flags, 8/16/32-bit elements, 3-D arrays: read by
   `xrdct decode --keep-type` to identical pixels (no real file uses V2 or the flags).
4. The real CBF files (`$XRDCT_REAL_CBF_DIR`, else `../shared/data/real-cbf` beside the
   repository; skipped with a message when absent): `xrdct info --json` must report the dims,
   element type and MD5 status of `expected.json`, and `xrdct decode --section N` the pixels
   (SHA-256 of the int32 little-endian array).

Usage: cbf_interop.py FRAMES_DIR WORK_DIR   (FRAMES_DIR holds the example's output and
manifest.json). Environment: XRDCT_BIN = the xrdct binary. Exits non-zero on any mismatch.
"""

import hashlib
import json
import os
import subprocess
import sys

import fabio
import fabio.cbfimage
import numpy as np
import pycbf

FAILURES = []


def check(cond, what):
    if cond:
        print("  ok   ", what)
    else:
        print("  FAIL ", what)
        FAILURES.append(what)


def sha_le(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()


def lines(text):
    return [ln.strip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]


def read_pycbf(path):
    """All sections as (array, dims fastest-first), plus header_contents of each row."""
    h = pycbf.cbf_handle_struct()
    h.read_widefile(path, pycbf.MSG_DIGEST)
    h.select_datablock(0)
    h.find_category("array_data")
    out = []
    for r in range(h.count_rows()):
        h.find_column("data")
        h.select_row(r)
        (_c, _id, elsize, elsigned, _u, nel, _mn, _mx, _o, df, dm, ds, _p) = h.get_integerarrayparameters_wdims_fs()
        raw = h.get_integerarray_as_string()
        a = np.frombuffer(raw, dtype=np.dtype(("<i" if elsigned else "<u") + str(elsize)))
        dims = [d for d in (df, dm, ds) if d > 0]
        contents = None
        try:
            h.find_column("header_contents")
            contents = h.get_value()
            if isinstance(contents, bytes):
                contents = contents.decode("latin-1")
        except Exception:
            pass
        out.append((a, dims, contents))
    return out


def our_frames(frames_dir):
    manifest = json.load(open(os.path.join(frames_dir, "manifest.json")))
    for fr in manifest["frames"]:
        path = os.path.join(frames_dir, fr["file"])
        want_lines = [ln.strip() for ln in fr["header_contents"]]
        print(fr["file"])
        # fabio reads the first section of single-array files.
        if len(fr["sections"]) == 1:
            img = fabio.open(path)
            s = fr["sections"][0]
            check(str(img.data.dtype) == s["dtype"], "fabio dtype %s" % img.data.dtype)
            check(list(img.data.shape) == s["dims"][::-1], "fabio shape %s" % (img.data.shape,))
            check(sha_le(img.data) == s["sha256_le"], "fabio pixels identical")
            check(lines(img.header.get("_array_data.header_contents", "")) == want_lines,
                  "fabio header_contents identical (%d lines)" % len(want_lines))
            dt = np.dtype(s["dtype"])
            cbf_name = "%s %d-bit integer" % ("signed" if dt.kind == "i" else "unsigned", dt.itemsize * 8)
            check(img.header.get("X-Binary-Element-Type", "").strip('"') == cbf_name,
                  "fabio X-Binary-Element-Type %s" % cbf_name)
            if fr.get("wavelength") is not None:
                wl = [ln for ln in lines(img.header["_array_data.header_contents"]) if ln.startswith("# Wavelength")]
                check(wl and float(wl[0].split()[2]) == fr["wavelength"], "fabio wavelength value")
        secs = read_pycbf(path)
        check(len(secs) == len(fr["sections"]), "pycbf sections %d" % len(secs))
        for i, ((a, dims, contents), s) in enumerate(zip(secs, fr["sections"])):
            check(str(a.dtype) == s["dtype"], "pycbf section %d dtype %s" % (i, a.dtype))
            check(dims == s["dims"], "pycbf section %d dims %s" % (i, dims))
            check(sha_le(a) == s["sha256_le"], "pycbf section %d pixels identical" % i)
            check(contents is not None and lines(contents) == want_lines, "pycbf section %d header_contents identical" % i)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print("  command failed:", " ".join(cmd), "\n", p.stderr)
    return p


def fabio_frames(work_dir, xrdct):
    rng = np.random.default_rng(20261126)
    header = {
        "Detector": "PILATUS 300K, S/N 3-0104, fabio-written",
        "Pixel_size": "172e-6 m x 172e-6 m",
        "Exposure_time": "0.0950000 s",
        "Wavelength": "0.68940 A",
        "Detector_distance": "0.12237 m",
        "Beam_xy": "(243.82, 326.75) pixels",
        "Flux": "1.396021",
        "Start_angle": "-12.5000 deg.",
        "Angle_increment": "0.1000 deg.",
    }
    for dtype in ("int32", "uint16", "int16", "uint32", "int8"):
        info = np.iinfo(dtype)
        data = rng.integers(0, 200, size=(31, 47)).astype(dtype)
        data.flat[::97] = info.max
        data.flat[5::89] = info.min
        name = os.path.join(work_dir, "fabio_%s.cbf" % dtype)
        img = fabio.cbfimage.CbfImage(data=data, header=dict(header))
        img.write(name)
        print(os.path.basename(name))
        raw = os.path.join(work_dir, "fabio_%s.raw" % dtype)
        p = run([xrdct, "decode", name, "-o", raw, "--keep-type", "--verify-md5"])
        check(p.returncode == 0, "xrdct decode --keep-type --verify-md5")
        if p.returncode == 0:
            back = np.fromfile(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            check(back.size == data.size and np.array_equal(back.reshape(data.shape), data), "our pixels identical to fabio's")
        if np.can_cast(dtype, "int32"):
            raw32 = raw + ".i32"
            p = run([xrdct, "decode", name, "-o", raw32])
            check(p.returncode == 0 and np.array_equal(np.fromfile(raw32, "<i4").reshape(data.shape), data.astype("int32")),
                  "xrdct decode (int32) identical")
        p = run([xrdct, "info", name, "--json"])
        check(p.returncode == 0, "xrdct info --json")
        if p.returncode != 0:
            continue
        info_json = json.loads(p.stdout)
        sec = info_json["sections"][0]
        check(sec["dims"] == [47, 31], "info dims %s" % sec["dims"])
        check(sec["element_type"] == dtype, "info element type %s" % sec["element_type"])
        check(sec["md5"]["present"] and sec["md5"]["ok"], "info MD5 present and ok")
        h = info_json["header"]
        check(h["wavelength_a"] == 0.6894, "header wavelength %s" % h["wavelength_a"])
        check(h["detector_distance_m"] == 0.12237, "header detector distance")
        check(h["beam_xy_px"] == [243.82, 326.75], "header beam_xy")
        check(h["flux"] == 1.396021, "header flux")
        check(h["exposure_time_s"] == 0.095, "header exposure time")
        check(h["pixel_size_m"] == [172e-6, 172e-6], "header pixel size")
        check(h["start_angle_deg"] == -12.5 and h["angle_increment_deg"] == 0.1, "header angles")
        check(h["detector"] == header["Detector"], "header detector")


def pycbf_packed_frames(work_dir, xrdct):
    rng = np.random.default_rng(7)
    variants = [
        ("packed", pycbf.CBF_PACKED),
        ("packed_v2", pycbf.CBF_PACKED_V2),
        ("packed_flat", pycbf.CBF_PACKED | pycbf.CBF_FLAT_IMAGE),
        ("packed_v2_flat", pycbf.CBF_PACKED_V2 | pycbf.CBF_FLAT_IMAGE),
        ("packed_uncorrelated", pycbf.CBF_PACKED | pycbf.CBF_UNCORRELATED_SECTIONS),
        ("packed_v2_uncorrelated", pycbf.CBF_PACKED_V2 | pycbf.CBF_UNCORRELATED_SECTIONS),
    ]
    for name, compression in variants:
        for dtype in ("int32", "uint32", "int16", "uint16", "int8", "uint8"):
            for dims in ((29, 17, 3), (2, 5, 4)):
                info = np.iinfo(dtype)
                a = rng.integers(0, 300, size=dims[::-1]).astype(dtype)
                a.flat[::31] = info.max
                a.flat[7::53] = info.min
                path = os.path.join(work_dir, "pycbf_%s_%s_%dx%dx%d.cbf" % ((name, dtype) + dims))
                h = pycbf.cbf_handle_struct()
                h.new_datablock(b"pycbf_packed")
                h.new_category(b"array_data")
                h.new_column(b"data")
                h.new_row()
                h.set_integerarray_wdims_fs(compression, 1, a.tobytes(), a.dtype.itemsize, int(a.dtype.kind == "i"),
                                            a.size, b"little_endian", dims[0], dims[1], dims[2], 0)
                h.write_widefile(path.encode(), pycbf.CBF, pycbf.MIME_HEADERS | pycbf.MSG_DIGEST, 0)
                raw = path + ".raw"
                p = run([xrdct, "decode", path, "-o", raw, "--keep-type", "--verify-md5"])
                ok = p.returncode == 0 and np.array_equal(np.fromfile(raw, dtype=a.dtype).reshape(a.shape), a)
                check(ok, "%s %s %s: pixels identical" % (name, dtype, "x".join(map(str, dims))))


def real_files(work_dir, xrdct):
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.environ.get("XRDCT_REAL_CBF_DIR") or os.path.join(here, "..", "..", "shared", "data", "real-cbf")
    if not os.path.isfile(os.path.join(d, "expected.json")):
        print("SKIP real files: %s not found (set XRDCT_REAL_CBF_DIR)" % d)
        return
    expected = json.load(open(os.path.join(d, "expected.json")))
    for entry in expected["files"]:
        path = os.path.join(d, entry["file"])
        print(entry["file"])
        p = run([xrdct, "info", path, "--json"])
        check(p.returncode == 0, "xrdct info --json")
        if p.returncode != 0:
            continue
        info = json.loads(p.stdout)
        check(len(info["sections"]) == len(entry["sections"]), "%d sections" % len(info["sections"]))
        for i, (sec, want) in enumerate(zip(info["sections"], entry["sections"])):
            ref = want["pycbf"]
            check(sec["dims"] == ref["dims"], "section %d dims %s" % (i, sec["dims"]))
            check(sec["element_type"] == ref["element_type"], "section %d element type %s" % (i, sec["element_type"]))
            md5_ok = sec["md5"]["ok"] if sec["md5"]["present"] else None
            check(md5_ok == want["md5_ok"], "section %d MD5 status %s" % (i, md5_ok))
            raw = os.path.join(work_dir, "real.raw")
            p = run([xrdct, "decode", path, "-o", raw, "--section", str(i), "--verify-md5"])
            ok = p.returncode == 0 and hashlib.sha256(open(raw, "rb").read()).hexdigest() == ref["sha256_int32_le"]
            check(ok, "section %d pixels (sha256 of int32 LE)" % i)
            os.remove(raw)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    frames_dir, work_dir = sys.argv[1], sys.argv[2]
    xrdct = os.environ.get("XRDCT_BIN")
    if not xrdct:
        sys.exit("XRDCT_BIN is not set")
    os.makedirs(work_dir, exist_ok=True)
    print("== frames written by cbf-format, read by fabio %s and pycbf" % fabio.version)
    our_frames(frames_dir)
    print("== frames written by fabio, read by xrdct")
    fabio_frames(work_dir, xrdct)
    print("== packed frames written by pycbf (CBFlib), read by xrdct")
    pycbf_packed_frames(work_dir, xrdct)
    print("== real CBF files, read by xrdct, against expected.json")
    real_files(work_dir, xrdct)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("cbf interop: all checks passed")


if __name__ == "__main__":
    main()
