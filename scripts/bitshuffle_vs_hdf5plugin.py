#!/usr/bin/env python3
"""Cross-check of the `xrdct-bitshuffle` crate against the real HDF5 filters (h5py + hdf5plugin).

    bitshuffle_vs_hdf5plugin.py write DIR   # frames through the HDF5 filters -> raw chunks
    bitshuffle_vs_hdf5plugin.py verify DIR  # the crate's chunks (DIR/ours) -> HDF5 filters

`write` stores random detector-like frames (u8, u16, u32, i32, u64; shapes with partial
blocks and tails of fewer than 8 elements) with hdf5plugin.Bitshuffle (lz4 and zstd, block
sizes 0 = default, 256, 2048) and hdf5plugin.LZ4 (block sizes 0 = default, 1000), reads each
raw chunk back with `read_direct_chunk` and writes, per case, NAME.chunk (the filter's bytes),
NAME.raw (the expected little-endian pixels) and one line of DIR/cases.txt:
`NAME CODEC ELEM_SIZE N BLOCK` (CODEC: bslz4, bszstd, lz4; BLOCK in elements for bitshuffle,
bytes for lz4). The Rust test `bitshuffle/tests/hdf5plugin.rs` (XRDCT_BSHUF_FIXTURES=DIR)
decodes them bit-exact and encodes the same pixels into DIR/ours/NAME.chunk; `verify` writes
those with `write_direct_chunk` into datasets with the same filter and reads them back through
h5py, which must give the pixels.
"""

import os
import sys

import h5py
import hdf5plugin
import numpy as np

SHAPES = [(1, 5), (1, 8), (7, 9), (37, 53), (195, 487), (256, 1030)]
DTYPES = ["u1", "<u2", "<u4", "<i4", "<u8"]


def frame(rng, dtype, shape):
    dt = np.dtype(dtype)
    a = rng.poisson(3.0, shape).astype(dt)
    flat = a.reshape(-1)
    k = max(1, flat.size // 50)
    idx = rng.integers(0, flat.size, k)
    if dt.kind == "u":
        flat[idx] = np.iinfo(dt).max  # invalid-pixel marker
    else:
        flat[idx] = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, k, dtype=dt)
    hot = rng.integers(0, flat.size, k)
    flat[hot] = rng.integers(0, min(np.iinfo(dt).max, 2**40), k).astype(dt)
    return a


def filters():
    for nelems in (0, 256, 2048):
        yield f"bslz4_b{nelems}", "bslz4", nelems, hdf5plugin.Bitshuffle(nelems=nelems, cname="lz4")
        yield f"bszstd_b{nelems}", "bszstd", nelems, hdf5plugin.Bitshuffle(nelems=nelems, cname="zstd")
    for nbytes in (0, 1000):
        yield f"lz4_b{nbytes}", "lz4", nbytes, hdf5plugin.LZ4(nbytes=nbytes)


def cases():
    rng = np.random.default_rng(20261204)
    for fname, codec, block, filt in filters():
        for dtype in DTYPES:
            for shape in SHAPES:
                name = f"{fname}_{np.dtype(dtype).name}_{shape[0]}x{shape[1]}"
                yield name, codec, block, filt, dtype, shape, frame(rng, dtype, shape)
    # Incompressible noise (LZ4 filter stores such blocks raw).
    for fname, codec, block, filt in filters():
        a = rng.integers(0, 2**32, (64, 100), dtype=np.uint32)
        yield f"{fname}_noise", codec, block, filt, "<u4", a.shape, a


def write(d):
    os.makedirs(d, exist_ok=True)
    lines = []
    with h5py.File(os.path.join(d, "filters.h5"), "w") as f:
        for name, codec, block, filt, dtype, shape, a in cases():
            ds = f.create_dataset(name, data=a, chunks=shape, **filt)
            mask, chunk = ds.id.read_direct_chunk((0, 0))
            assert mask == 0, (name, mask)
            with open(os.path.join(d, name + ".chunk"), "wb") as o:
                o.write(chunk)
            with open(os.path.join(d, name + ".raw"), "wb") as o:
                o.write(a.astype(np.dtype(dtype).newbyteorder("<")).tobytes())
            lines.append(f"{name} {codec} {np.dtype(dtype).itemsize} {a.size} {block}\n")
    with open(os.path.join(d, "cases.txt"), "w") as o:
        o.writelines(lines)
    print(f"bitshuffle-hdf5plugin: {len(lines)} chunks written to {d}")


def verify(d):
    ours = os.path.join(d, "ours")
    n = 0
    with h5py.File(os.path.join(d, "ours.h5"), "w") as f:
        for name, codec, block, filt, dtype, shape, a in cases():
            path = os.path.join(ours, name + ".chunk")
            if not os.path.exists(path):
                sys.exit(f"bitshuffle-hdf5plugin: {path} missing (run the Rust test first)")
            with open(path, "rb") as i:
                chunk = i.read()
            ds = f.create_dataset(name, shape=shape, dtype=dtype, chunks=shape, **filt)
            ds.id.write_direct_chunk((0, 0), chunk)
            back = ds[()]
            if not np.array_equal(back, a):
                sys.exit(f"bitshuffle-hdf5plugin: {name}: the filter reads other pixels")
            n += 1
    print(f"bitshuffle-hdf5plugin: {n} chunks of the crate read back bit-exact by the HDF5 filters")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "verify"):
        sys.exit(__doc__)
    {"write": write, "verify": verify}[sys.argv[1]](sys.argv[2])
