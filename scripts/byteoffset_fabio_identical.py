"""Byte-offset cross-check against fabio: for the same pixels, `byteoffset::encode` writes the
same bytes as fabio's CBF writer, and `byteoffset::decode` reads fabio's streams back to the
same pixels.

Usage: byteoffset_fabio_identical.py CODEC_RAW WORKDIR
  CODEC_RAW  the `codec_raw` example binary of the byteoffset crate
  WORKDIR    an empty scratch directory

Known, deliberate differences (not exercised here, documented in byteoffset's reference):
fabio's numpy encoder takes differences at 64 bits, so for 8/16-bit images whose neighbour
differences leave the signed range of the type it writes a wider escape where cbflib (and
byteoffset) wrap at the element width; fabio's Cython int32 encoder mis-writes the single
delta -2^31. Images here stay clear of both, as real detector images do.
"""

import subprocess
import sys
from pathlib import Path

import fabio
import numpy as np
from fabio.cbfimage import CbfImage
from fabio.compression import compByteOffset, decByteOffset

MARKER = b"\x0c\x1a\x04\xd5"


def payload_of(cbf_bytes: bytes) -> bytes:
    """The binary section of a fabio-written CBF (X-Binary-Size bytes after the marker)."""
    start = cbf_bytes.index(MARKER)
    header = cbf_bytes[:start].decode("ascii", "replace")
    size = None
    for line in header.splitlines():
        if line.strip().startswith("X-Binary-Size:"):
            size = int(line.split(":", 1)[1])
    assert size is not None, "no X-Binary-Size"
    return cbf_bytes[start + 4 : start + 4 + size]


def ring_frame(rng, rows=619, cols=487):
    """A small Pilatus-like frame: rings of a few hundred counts, gaps of -1, hot pixels."""
    y, x = np.mgrid[0:rows, 0:cols]
    r = np.hypot(y - rows * 0.45, x - cols * 0.55)
    lam = 3.0 + 8.0 * np.exp(-r / 400.0)
    for r0, peak in [(60, 400), (95, 250), (140, 600), (210, 150)]:
        lam = lam + peak * np.exp(-0.5 * ((r - r0) / 1.5) ** 2)
    img = rng.poisson(lam).astype(np.int32)
    img[:, 240:247] = -1
    img[195:212, :] = -1
    hot = rng.integers(0, img.size, 12)
    img.flat[hot] = 1_048_575
    return img


def cases(rng):
    yield "ring_frame", ring_frame(rng)
    yield "int32_random_small", rng.integers(-200, 200, 50_000).astype(np.int32)
    yield "int32_random_wide", rng.integers(-(2**30), 2**30, 50_000).astype(np.int32)
    steps = np.array([0, 127, -127, 128, -128, 32767, -32767, 32768, -32768, 2**31 - 1], np.int64)
    edge = np.cumsum(np.tile(steps, 300) * np.resize([1, -1], 3000))
    yield "int32_escape_edges", edge.astype(np.int32)
    yield "int32_extremes", np.array([2**31 - 1, 0, -(2**31) + 1, 0, 5, -(2**31) + 1, 2**31 - 1], np.int32)
    yield "uint32_random", rng.integers(0, 2**32, 20_000, dtype=np.uint64).astype(np.uint32)
    yield "int16_random", rng.integers(-16_000, 16_000, 20_000).astype(np.int16)
    yield "uint16_counts", rng.poisson(300, 20_000).astype(np.uint16)
    yield "uint8_counts", rng.poisson(20, 20_000).astype(np.uint8)
    yield "int8_random", rng.integers(-60, 60, 20_000).astype(np.int8)
    yield "int64_wide", rng.integers(-(2**62), 2**62, 5_000).astype(np.int64)
    yield "empty_int32", np.zeros(0, np.int32)


def as_i32(a):
    """Values modulo 2^32 as int32 (the 32-bit wrapping decode)."""
    return np.asarray(a).astype(np.int64).astype(np.uint32).view(np.int32)


def run(codec, *args):
    subprocess.run([str(codec), *map(str, args)], check=True)


def main():
    codec, work = Path(sys.argv[1]), Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261126)
    failures = 0
    checked = 0
    for name, img in cases(rng):
        flat = np.ascontiguousarray(img.ravel())
        raw = work / f"{name}.raw"
        raw.write_bytes(flat.astype(flat.dtype.newbyteorder("<")).tobytes())
        ours_path = work / f"{name}.bo"
        run(codec, "encode", flat.dtype.name.replace("int", "i").replace("ui", "u"), raw, ours_path)
        ours = ours_path.read_bytes()
        theirs = compByteOffset(flat)
        ok = ours == theirs
        if flat.dtype == np.int32 and img.ndim == 2:
            cbf = work / f"{name}.cbf"
            CbfImage(data=img).write(str(cbf))
            ok = ok and payload_of(cbf.read_bytes()) == ours
            assert np.array_equal(fabio.open(str(cbf)).data, img)
        if flat.dtype.itemsize <= 4 and flat.size:
            # Our decoder reads fabio's stream back (32-bit output; wrapping for uint32).
            back = work / f"{name}.i32"
            run(codec, "decode", flat.size, ours_path, back)
            got = np.frombuffer(back.read_bytes(), "<i4")
            want = as_i32(flat)
            ok = ok and np.array_equal(got, want)
            # fabio's own decoder agrees modulo 2^32 (it accumulates at 64 bits).
            ok = ok and np.array_equal(as_i32(decByteOffset(theirs, flat.size, dtype="int64")), want)
        checked += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {flat.dtype} x {flat.size}, {len(ours)} bytes")
        failures += not ok
    print(f"byteoffset vs fabio: {checked - failures}/{checked} identical")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
