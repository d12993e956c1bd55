"""Detector-like HDF5 files written by h5py + hdf5plugin, and the pixels h5py reads from them.

    python scripts/hdf5_input_reference.py OUTDIR

writes, for each case, OUTDIR/CASE.h5 (the file to give xrdct; DECTRIS cases also write
their data files) and OUTDIR/CASE.i32 (every frame as little-endian int32, frames one after
another, all-ones unsigned 16- and 32-bit pixels as -1), and prints the case names. Used by
scripts/checks/55-hdf5-input.sh.
"""

import sys
from pathlib import Path

import h5py
import hdf5plugin
import numpy as np

ROWS, COLS = 97, 131


def frames(n, dtype, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    a = rng.poisson(20, size=(n, ROWS, COLS)).astype(np.int64)
    a[:, :, 40] = info.max if info.min == 0 else -1  # a gap
    a[:, 3, 5] = min(info.max - 1, 1_000_000)  # a hot pixel
    return a.astype(dtype)


def reference(a):
    b = a.astype(np.int64)
    if a.dtype.kind == "u" and a.dtype.itemsize >= 2:  # Eiger's invalid-pixel marker
        b[a == np.iinfo(a.dtype).max] = -1
    return b.astype("<i4")


def dataset(group, name, data, chunks, compression):
    kw = dict(compression) if isinstance(compression, dict) else {"compression": compression}
    group.create_dataset(name, data=data, chunks=chunks, **kw)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bslz4 = hdf5plugin.Bitshuffle(cname="lz4")
    one = (1, ROWS, COLS)
    cases = {
        "single_u32_bslz4": ("/entry/data/data", np.uint32, one, bslz4),
        "single_u16_bslz4_block64": (
            "/entry/data/data", np.uint16, one, hdf5plugin.Bitshuffle(nelems=64, cname="lz4")),
        "lima_i32_bslz4": ("/entry_0000/measurement/data", np.int32, one, bslz4),
        "single_u8_bslz4": ("/entry/data/data", np.uint8, one, bslz4),
        "single_i32_gzip": ("/entry/data/data", np.int32, one, "gzip"),
        "two_frames_per_chunk_u16": ("/entry/data/data", np.uint16, (2, ROWS, COLS), bslz4),
    }
    for seed, (case, (name, dtype, chunks, comp)) in enumerate(cases.items()):
        a = frames(5, dtype, seed)
        with h5py.File(out / f"{case}.h5", "w") as f:
            group, leaf = name.rsplit("/", 1)
            dataset(f.require_group(group), leaf, a, chunks, comp)
        reference(a).tofile(out / f"{case}.i32")
        print(case)
    # DECTRIS: a master file linking two data files.
    a = frames(7, np.uint32, 99)
    parts = [a[:4], a[4:]]
    with h5py.File(out / "dectris_master.h5", "w") as m:
        data = m.require_group("/entry/data")
        for i, p in enumerate(parts, 1):
            fname = f"dectris_data_{i:06d}.h5"
            with h5py.File(out / fname, "w") as d:
                dataset(d.require_group("/entry/data"), "data", p, one, bslz4)
            data[f"data_{i:06d}"] = h5py.ExternalLink(fname, "/entry/data/data")
    reference(a).tofile(out / "dectris_master.i32")
    print("dectris_master")


if __name__ == "__main__":
    main(sys.argv[1])
